//! The layers that are the identity at inference: Dropout and its relatives, noise layers.

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
    pub fn from_config(c: &Config<'_>, class: &'static str) -> Result<Self> {
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

/// Keras `RandomCrop(height, width)` at inference. Keras 3 returns its input unchanged there,
/// while declaring the cropped shape; a crop as large as the input is therefore the identity,
/// and any other is refused rather than given a shape that contradicts the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomCrop {
    /// Crop height.
    pub height: usize,
    /// Crop width.
    pub width: usize,
}

impl RandomCrop {
    /// Reads Keras's config.
    pub fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["height", "width", "data_format"])?;
        c.channels_last()?;
        Ok(Self {
            height: c.positive("height", None)?,
            width: c.positive("width", None)?,
        })
    }
}

impl Layer for RandomCrop {
    fn class_name(&self) -> &'static str {
        "RandomCrop"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let [h, w, c] = super::shapes::hwc("random_crop", inputs[0])?;
        if [h, w] != [self.height, self.width] {
            return Err(crate::error::Error::InvalidConfig {
                op: "random_crop",
                reason: format!(
                    "a {}×{} crop of a {h}×{w} input: Keras declares the cropped shape but \
                     returns the input unchanged at inference, so the model's shapes are \
                     inconsistent",
                    self.height, self.width
                ),
            });
        }
        Ok(vec![h, w, c])
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
