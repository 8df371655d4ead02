//! Keras `LeakyReLU(negative_slope)`: a parametrized element-wise layer.

use super::config::Config;
use super::shapes::last;
use super::{EpilogueStep, Layer};
use crate::activation::ElementFn;
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_unary, Unary};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// `LeakyReLU(negative_slope=0.3)`: `x` if `x ≥ 0`, else `negative_slope · x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyRelu {
    /// The slope below zero.
    pub negative_slope: f32,
}

impl LeakyRelu {
    /// Reads Keras's config (`negative_slope`; Keras 2 called it `alpha`).
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["negative_slope", "alpha"])?;
        let slope = match c.f64("negative_slope")? {
            Some(s) => s,
            None => c.f64_or("alpha", 0.3)?,
        };
        if slope < 0.0 {
            return Err(Error::InvalidConfig {
                op: "leaky_relu",
                reason: format!("negative_slope {slope} must be ≥ 0 (Keras refuses it too)"),
            });
        }
        Ok(Self {
            negative_slope: slope as f32,
        })
    }
}

impl Layer for LeakyRelu {
    fn class_name(&self) -> &'static str {
        "LeakyReLU"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        last("leaky_relu", inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let s = f64::from(self.negative_slope);
        reference::map(inputs[0], |x| if x >= 0.0 { x } else { s * x })
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        let out = l.output()?;
        let mode = ElementFn::LeakyRelu(self.negative_slope);
        emit_unary(l.builder(), Unary::mode(mode), x, out)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }

    fn as_epilogue(&self, _weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        Some(Ok(EpilogueStep::Func(ElementFn::LeakyRelu(
            self.negative_slope,
        ))))
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        crate::cpu::map_fn(inputs[0], ElementFn::LeakyRelu(self.negative_slope))
    }
}
