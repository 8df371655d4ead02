//! Keras `Activation(name)`: any element-wise activation, or softmax over the last axis.

use super::config::{Config, LayerActivation};
use super::shapes::{last, product};
use super::{EpilogueStep, Layer};
use crate::activation::ElementFn;
use crate::error::Result;
use crate::gpu::kernels::{emit_softmax, emit_unary, Unary};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// `Activation('relu')`, `Activation('softmax')`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivationLayer(pub LayerActivation);

impl ActivationLayer {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["activation"])?;
        Ok(Self(c.activation()?))
    }
}

/// Lowers an element-wise activation or a softmax from input 0 to the output.
pub(crate) fn lower_activation(l: &mut Lowering<'_, '_>, a: LayerActivation) -> Result<()> {
    let x = l.input(0);
    let shape = l.input_shape(0).to_vec();
    let out = l.output()?;
    match a.softmax() {
        Some(log) => {
            let cols = last("softmax", &shape)?;
            let rows = product("softmax", &shape[..shape.len() - 1])?;
            let batch = l.tune_batch();
            emit_softmax(l.builder(), batch, rows, cols, log, x, out)
        }
        None => emit_unary(l.builder(), Unary::activation(a.elementwise()), x, out),
    }
}

/// The reference of an element-wise activation or a softmax.
pub(crate) fn reference_activation(x: &Tensor, a: LayerActivation) -> Result<Tensor> {
    match a.softmax() {
        Some(log) => reference::softmax(x, log),
        None => {
            let f = a.elementwise();
            reference::map(x, |v| f.apply(v))
        }
    }
}

impl Layer for ActivationLayer {
    fn class_name(&self) -> &'static str {
        "Activation"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        last("activation", inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        reference_activation(inputs[0], self.0)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        match self.0.softmax() {
            Some(log) => reference::softmax(inputs[0], log),
            None => crate::cpu::map(inputs[0], self.0.elementwise()),
        }
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        lower_activation(l, self.0)
    }

    fn writes_channel_slices(&self) -> bool {
        self.0.softmax().is_none()
    }

    fn as_epilogue(&self, _weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        self.0.softmax().is_none().then(|| {
            Ok(EpilogueStep::Func(ElementFn::Activation(
                self.0.elementwise(),
            )))
        })
    }
}
