//! Keras `RandomCrop(height, width)` at inference.

use super::config::Config;
use super::Layer;
use crate::error::Result;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

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
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
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
