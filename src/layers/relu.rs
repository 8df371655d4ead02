//! Keras `ReLU(max_value, negative_slope, threshold)`, computed step by step as
//! `keras.activations.relu` composes it (which decides what NaN and ±inf give).

use super::config::Config;
use super::shapes::last;
use super::{EpilogueStep, Layer};
use crate::activation::ElementFn;
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_unary, Unary};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// `ReLU(max_value=None, negative_slope=0, threshold=0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relu {
    /// Upper cap, if any.
    pub max_value: Option<f32>,
    /// Slope below the threshold.
    pub negative_slope: f32,
    /// Values at or below it are zero (then scaled by the slope).
    pub threshold: f32,
}

impl Relu {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["max_value", "negative_slope", "threshold"])?;
        let relu = Self {
            max_value: c.f64("max_value")?.map(|v| v as f32),
            negative_slope: c.f64_or("negative_slope", 0.0)? as f32,
            threshold: c.f64_or("threshold", 0.0)? as f32,
        };
        if relu.max_value.is_some_and(|m| m < 0.0) || relu.negative_slope < 0.0 {
            return Err(Error::InvalidConfig {
                op: "relu",
                reason: "max_value and negative_slope must be ≥ 0 (Keras refuses them too)".into(),
            });
        }
        Ok(relu)
    }

    /// The function as an `ElementFn` (the element-wise functions the backends share).
    pub fn function(&self) -> ElementFn {
        ElementFn::ReluLayer {
            max_value: self.max_value,
            negative_slope: self.negative_slope,
            threshold: self.threshold,
        }
    }

    /// The function on one value, in f64, as Keras composes it.
    pub fn apply(&self, x: f64) -> f64 {
        self.function().apply(x)
    }
}

impl Layer for Relu {
    fn class_name(&self) -> &'static str {
        "ReLU"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        last("relu", inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        reference::map(inputs[0], |v| self.apply(v))
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        let out = l.output()?;
        emit_unary(l.builder(), Unary::mode(self.function()), x, out)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }

    fn as_epilogue(&self, _weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        Some(Ok(EpilogueStep::Func(self.function())))
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        crate::cpu::map_fn(inputs[0], self.function())
    }
}
