//! Legacy Keras 2 HDF5 model files (`model.save("m.h5")`): the architecture in the root's
//! `model_config` attribute, the weights under `model_weights/<layer>/`.

use super::Model;
use crate::error::{Error, Result};

/// Loads a legacy `.h5` model file.
pub(super) fn load(label: &str, _bytes: Vec<u8>) -> Result<Model> {
    Err(Error::ModelConfig {
        layer: label.to_string(),
        message: "legacy HDF5 model files are not supported yet".into(),
    })
}
