//! The layers that are the identity at inference: Dropout and its relatives, noise layers,
//! random augmentations.

use super::config::Config;
use super::Layer;
use crate::error::Result;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// A layer that passes its input through unchanged at inference (`Dropout`, `GaussianNoise`,
/// ...); `class` is the Keras class it was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The Keras class name.
    pub class: &'static str,
}

impl Identity {
    /// Reads Keras's config of one of the inference no-op layers; `class` names it.
    pub(crate) fn from_config(c: &Config<'_>, class: &'static str) -> Result<Self> {
        // Every option of these layers only matters in training.
        c.check_keys(&[
            "rate",
            "noise_shape",
            "stddev",
            "data_format",
            "l1",
            "l2",
            "mode",
            "factor",
            "fill_mode",
            "interpolation",
            "fill_value",
            "value_range",
            "height_factor",
            "width_factor",
        ])?;
        c.channels_last()?;
        Ok(Self { class })
    }
}

impl Layer for Identity {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        Ok(inputs[0].to_vec())
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        vec!["the identity at inference; params = 0".into()]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        Ok(inputs[0].clone())
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        l.alias_output(x)
    }
}
