//! Keras `Reshape(target_shape)` and `Permute(dims)`.

use super::config::{as_usize, Config};
use super::shapes::product;
use super::Layer;
use crate::error::{Error, Result};
use crate::gpu::ops::emit_gather;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Reshape(target_shape)`: the same values, another per-example shape (one −1 allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reshape {
    /// The target shape; `None` stands for Keras's −1 (inferred).
    pub target: Vec<Option<usize>>,
}

impl Reshape {
    /// Reads Keras's config.
    pub fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["target_shape"])?;
        let dims = c
            .get("target_shape")
            .and_then(|v| v.as_array())
            .ok_or_else(|| c.error("'target_shape' must be a list"))?;
        let target = dims
            .iter()
            .map(|d| match d.as_i64() {
                Some(-1) => Ok(None),
                _ => as_usize(d)
                    .map(Some)
                    .ok_or_else(|| c.error(format!("target_shape entry {d} is not a size or -1"))),
            })
            .collect::<Result<Vec<_>>>()?;
        if target.iter().filter(|d| d.is_none()).count() > 1 {
            return Err(c.error("target_shape may hold at most one -1"));
        }
        Ok(Self { target })
    }
}

impl Layer for Reshape {
    fn class_name(&self) -> &'static str {
        "Reshape"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let total = product("reshape", inputs[0])?;
        let known = self
            .target
            .iter()
            .flatten()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or(Error::Overflow {
                op: "reshape",
                what: "target shape",
            })?;
        let fits = match self.target.iter().any(Option::is_none) {
            true => known > 0 && total % known == 0,
            false => known == total,
        };
        if !fits {
            return Err(Error::ShapeMismatch {
                op: "reshape",
                what: "input",
                expected: format!(
                    "{known} values (or a multiple, with a -1) for {:?}",
                    self.target
                ),
                actual: inputs[0].to_vec(),
            });
        }
        Ok(self
            .target
            .iter()
            .map(|d| d.unwrap_or(total / known.max(1)))
            .collect())
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        vec![format!(
            "{:?} → {output:?}, the same values; params = 0",
            inputs[0]
        )]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let out = self.output_shape(&[&x.shape()[1..]])?;
        x.clone().reshape([&x.shape()[..1], &out].concat())
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        l.alias_output(x)
    }
}

/// `Permute(dims)`: reorders the axes after the batch (`dims` 1-based, as Keras writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permute {
    /// For each output axis, the input axis it takes (0-based, without the batch).
    pub dims: Vec<usize>,
}

impl Permute {
    /// Reads Keras's config.
    pub fn from_config(c: &Config<'_>) -> Result<Self> {
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
