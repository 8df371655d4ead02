//! Keras `Permute(dims)`: a strided gather on the GPU.

use super::config::{as_usize, Config};
use super::Layer;
use crate::error::{Error, Result};
use crate::gpu::kernels::emit_gather;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Permute(dims)`: reorders the axes after the batch (`dims` 1-based, as Keras writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permute {
    /// For each output axis, the input axis it takes (0-based, without the batch).
    pub dims: Vec<usize>,
}

impl Permute {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["dims"])?;
        let dims: Vec<usize> = c
            .get("dims")
            .and_then(|v| v.as_array())
            .ok_or_else(|| c.error("'dims' must be a list"))?
            .iter()
            .map(|d| {
                as_usize(d)
                    .filter(|&d| d >= 1)
                    .map(|d| d - 1)
                    .ok_or_else(|| c.error(format!("dims entry {d} is not an axis ≥ 1")))
            })
            .collect::<Result<_>>()?;
        let mut sorted = dims.clone();
        sorted.sort_unstable();
        if sorted != (0..dims.len()).collect::<Vec<_>>() {
            return Err(c.error(format!("dims {dims:?} is not a permutation")));
        }
        Ok(Self { dims })
    }

    /// For each output axis (batch first), the input's stride along it.
    fn strides(&self, input: &[usize]) -> Vec<usize> {
        let mut input_strides = vec![1usize; input.len()];
        for k in (0..input.len().saturating_sub(1)).rev() {
            input_strides[k] = input_strides[k + 1] * input[k + 1];
        }
        std::iter::once(input.iter().product())
            .chain(self.dims.iter().map(|&d| input_strides[d]))
            .collect()
    }
}

impl Layer for Permute {
    fn class_name(&self) -> &'static str {
        "Permute"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let input = inputs[0];
        if input.len() != self.dims.len() {
            return Err(Error::ShapeMismatch {
                op: "permute",
                what: "input",
                expected: format!("{} axes after the batch", self.dims.len()),
                actual: input.to_vec(),
            });
        }
        Ok(self.dims.iter().map(|&d| input[d]).collect())
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        vec![format!("{:?} → {output:?}; params = 0", inputs[0])]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let input = &x.shape()[1..];
        let out = self.output_shape(&[input])?;
        let strides = self.strides(input);
        let shape = [&x.shape()[..1], &out].concat();
        let data = (0..x.data().len())
            .map(|mut i| {
                let mut at = 0;
                for k in (0..shape.len()).rev() {
                    at += (i % shape[k]) * strides[k];
                    i /= shape[k];
                }
                x.data()[at]
            })
            .collect();
        Tensor::new(shape, data)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let strides = self.strides(l.input_shape(0));
        let x = l.input(0);
        let out = l.output()?;
        emit_gather(l.builder(), x, strides, 0, out)
    }
}
