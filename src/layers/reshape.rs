//! Keras `Reshape(target_shape)`: a view of the same values.

use super::config::{as_usize, Config};
use super::shapes::product;
use super::Layer;
use crate::error::{Error, Result};
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
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
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
