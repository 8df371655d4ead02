//! Keras `Softmax(axis=-1)`, along any axis after the batch.

use super::config::Config;
use super::shapes::last;
use super::Layer;
use crate::error::{Error, Result};
use crate::gpu::kernels::emit_softmax_strided;
use crate::gpu::Lowering;
use crate::reference;
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
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["axis"])?;
        Ok(Self {
            axis: c.axis_value("axis", -1)?,
        })
    }
}

impl Softmax {
    /// The axis as an index into a per-example shape of rank `rank`.
    fn axis_index(&self, rank: usize) -> Result<usize> {
        let r = rank as i64 + 1;
        let k = if self.axis < 0 {
            self.axis + r
        } else {
            self.axis
        };
        if k < 1 || k >= r {
            return Err(Error::InvalidConfig {
                op: "softmax",
                reason: format!("axis {} is not an axis after the batch", self.axis),
            });
        }
        Ok((k - 1) as usize)
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
        last("softmax", inputs[0])?;
        self.axis_index(inputs[0].len())?;
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let axis = self.axis_index(x.shape().len() - 1)?;
        reference::softmax_axis(x, axis + 1, false)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = l.input_shape(0).to_vec();
        let axis = self.axis_index(shape.len())?;
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let x = l.input(0);
        let out = l.output()?;
        let batch = l.tune_batch();
        emit_softmax_strided(
            l.builder(),
            batch,
            outer * inner,
            shape[axis],
            inner,
            false,
            x,
            out,
        )
    }
}
