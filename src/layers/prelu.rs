//! Keras `PReLU`: `relu(x) − alpha·relu(−x)` with a learned `alpha` per position and channel
//! (shared along `shared_axes`).

use serde_json::Value;

use super::config::{as_usize, Config};
use super::{weight, Layer, WeightSpec};
use crate::activation::relu;
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_binary, BinaryOp, Operand};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// `PReLU(shared_axes=None)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelu {
    /// Axes (1-based, as Keras writes them) along which alpha is shared.
    pub shared_axes: Vec<usize>,
}

impl Prelu {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["shared_axes"])?;
        let shared_axes = match c.get("shared_axes") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| as_usize(v).ok_or_else(|| c.error("'shared_axes' must hold axes ≥ 1")))
                .collect::<Result<_>>()?,
            Some(v) => vec![as_usize(v).ok_or_else(|| c.error("'shared_axes' must be an axis"))?],
        };
        Ok(Self { shared_axes })
    }

    fn alpha_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut shape = input.to_vec();
        for &a in &self.shared_axes {
            if a == 0 || a > input.len() {
                return Err(Error::InvalidConfig {
                    op: "prelu",
                    reason: format!("shared axis {a} is not an axis of {input:?}"),
                });
            }
            shape[a - 1] = 1;
        }
        Ok(shape)
    }
}

impl Layer for Prelu {
    fn class_name(&self) -> &'static str {
        "PReLU"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        self.alpha_shape(inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        Ok(vec![WeightSpec::trainable(
            "alpha",
            self.alpha_shape(inputs[0])?,
        )])
    }

    fn explain(&self, inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let shape = self.alpha_shape(inputs[0]).unwrap_or_default();
        vec![format!(
            "params = alpha {shape:?} = {}",
            shape.iter().product::<usize>()
        )]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let alpha = weight(weights, 0)?;
        let batch = x.shape()[0];
        let alphas = Tensor::new(
            [&[batch][..], alpha.shape()].concat(),
            alpha.data().repeat(batch),
        )?;
        reference::binary(x, &alphas, |v, a| relu(v) - a * relu(-v))
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = self.alpha_shape(l.input_shape(0))?;
        let alpha = l.upload("alpha", |w| Ok(weight(w, 0)?.data().to_vec()))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_binary(
            l.builder(),
            BinaryOp::Prelu,
            Some(x),
            Operand::Weight(alpha, shape),
            out,
            1.0,
        )
    }
}
