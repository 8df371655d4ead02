//! Keras `ELU(alpha)`: a parametrized element-wise layer.

use super::config::Config;
use super::shapes::last;
use super::{EpilogueStep, Layer};
use crate::activation::ElementFn;
use crate::error::Result;
use crate::gpu::kernels::{emit_unary, Unary};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// `ELU(alpha=1.0)`: `x` if `x > 0`, else `alpha · (e^x − 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// The scale of the negative part.
    pub alpha: f32,
}

impl Elu {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["alpha"])?;
        Ok(Self {
            alpha: c.f64_or("alpha", 1.0)? as f32,
        })
    }
}

impl Layer for Elu {
    fn class_name(&self) -> &'static str {
        "ELU"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        last("elu", inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let a = f64::from(self.alpha);
        reference::map(inputs[0], |x| if x > 0.0 { x } else { a * x.exp_m1() })
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        let out = l.output()?;
        emit_unary(l.builder(), Unary::mode(ElementFn::Elu(self.alpha)), x, out)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }

    fn as_epilogue(&self, _weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        Some(Ok(EpilogueStep::Func(ElementFn::Elu(self.alpha))))
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        crate::cpu::map_fn(inputs[0], ElementFn::Elu(self.alpha))
    }
}
