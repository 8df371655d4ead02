//! Keras `Softmax(axis=-1)`.

use super::activation::{lower_activation, reference_activation};
use super::config::{Config, LayerActivation};
use super::shapes::last;
use super::Layer;
use crate::error::{Error, Result};
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Softmax()` over the last axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Softmax {
    axis: i64,
}

impl Softmax {
    /// Softmax over the last axis.
    pub fn new() -> Self {
        Self { axis: -1 }
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["axis"])?;
        Ok(Self {
            axis: c.axis_value("axis", -1)?,
        })
    }
}

impl Default for Softmax {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Softmax {
    fn class_name(&self) -> &'static str {
        "Softmax"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let rank = inputs[0].len() as i64;
        last("softmax", inputs[0])?;
        if self.axis != -1 && self.axis != rank {
            return Err(Error::InvalidConfig {
                op: "softmax",
                reason: format!("axis {} is not supported (only the last axis)", self.axis),
            });
        }
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        reference_activation(inputs[0], LayerActivation::Softmax)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        lower_activation(l, LayerActivation::Softmax)
    }
}
