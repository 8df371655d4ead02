//! Keras `Normalization`: `(x − mean) / maximum(sqrt(variance), 1e-7)` (or, with `invert`,
//! the inverse), from statistics given in the config or stored as the layer's weights.
//!
//! The statistics are taken at face value, as Keras does: a negative variance gives NaN (the
//! square root is NaN and jax's `maximum` keeps it), never the floor.

use serde_json::Value;

use super::config::Config;
use super::rescaling::numbers;
use super::{weight, Layer, WeightSpec};
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_binary, BinaryOp, Operand};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// Keras's `backend.epsilon()`, the floor of the standard deviation (a float32 in Keras).
const EPSILON: f32 = 1e-7;

/// `maximum(sqrt(variance), epsilon)` in float32 as XLA computes it. NaN stays NaN (Rust's
/// `max` would pick the floor). XLA reads subnormal inputs as zero, so a negative subnormal
/// variance gets the floor, not NaN.
fn std_floor(variance: f32) -> f32 {
    let v = if variance.is_subnormal() {
        0.0
    } else {
        variance
    };
    let s = v.sqrt();
    if s.is_nan() {
        s
    } else {
        s.max(EPSILON)
    }
}

/// `Normalization(axis=-1, mean=None, variance=None, invert=False)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    /// The kept axes, Keras-style (with the batch axis; negative from the end).
    pub axis: Vec<i64>,
    /// Statistics given in the config (`None`: they are the layer's weights).
    pub stats: Option<(Vec<f32>, Vec<f32>)>,
    /// Undo a normalization instead.
    pub invert: bool,
}

impl Normalization {
    /// `(x − mean) / std` (or its inverse) with `binary` the backend's broadcasting
    /// element-wise op.
    fn normalize(
        &self,
        x: &Tensor,
        weights: &[Tensor],
        binary: impl Fn(&Tensor, &Tensor, fn(f64, f64) -> f64) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let shape = self.stats_shape(&x.shape()[1..])?;
        let (mean, std) = self.moments(&x.shape()[1..], weights)?;
        let stats = Tensor::new([&[1][..], &shape].concat(), mean)?;
        let stds = Tensor::new([&[1][..], &shape].concat(), std)?;
        let batch = x.shape()[0];
        // Broadcast the statistics over the batch by repeating them.
        let repeat =
            |t: &Tensor| Tensor::new([&[batch][..], &shape].concat(), t.data().repeat(batch));
        let (m, s) = (repeat(&stats)?, repeat(&stds)?);
        if self.invert {
            let scaled = binary(x, &s, |a, b| a * b)?;
            binary(&scaled, &m, |a, b| a + b)
        } else {
            let centered = binary(x, &m, |a, b| a - b)?;
            binary(&centered, &s, |a, b| a / b)
        }
    }

    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["axis", "mean", "variance", "invert"])?;
        let axis = match c.get("axis") {
            None => vec![-1],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_i64()
                        .ok_or_else(|| c.error("'axis' must hold integers"))
                })
                .collect::<Result<_>>()?,
            Some(v) => vec![v
                .as_i64()
                .ok_or_else(|| c.error("'axis' must be an integer"))?],
        };
        let stats = match (c.get("mean"), c.get("variance")) {
            (None, None) => None,
            (Some(_), Some(_)) => Some((numbers(c, "mean", 0.0)?, numbers(c, "variance", 1.0)?)),
            _ => return Err(c.error("'mean' and 'variance' must be given together")),
        };
        Ok(Self {
            axis,
            stats,
            invert: c.bool("invert", false)?,
        })
    }

    /// The broadcast shape of the statistics over a per-example shape: kept axes keep their
    /// size, the others are 1.
    fn stats_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let rank = input.len() as i64 + 1;
        let mut shape = vec![1; input.len()];
        for &a in &self.axis {
            let k = if a < 0 { a + rank } else { a };
            if k < 1 || k >= rank {
                return Err(Error::InvalidConfig {
                    op: "normalization",
                    reason: format!(
                        "axis {a} must be one of the axes after the batch of a rank-{rank} input"
                    ),
                });
            }
            shape[(k - 1) as usize] = input[(k - 1) as usize];
        }
        Ok(shape)
    }

    /// `(mean, maximum(sqrt(variance), 1e-7))` as tensors of the stats shape.
    fn moments(&self, input: &[usize], weights: &[Tensor]) -> Result<(Vec<f32>, Vec<f32>)> {
        let shape = self.stats_shape(input)?;
        let n: usize = shape.iter().product();
        let (mean, var): (Vec<f32>, Vec<f32>) = match &self.stats {
            Some((m, v)) => (m.clone(), v.clone()),
            None => (
                weight(weights, 0)?.data().to_vec(),
                weight(weights, 1)?.data().to_vec(),
            ),
        };
        let expand = |v: Vec<f32>, what: &'static str| -> Result<Vec<f32>> {
            match v.len() {
                1 => Ok(vec![v[0]; n]),
                len if len == n => Ok(v),
                len => Err(Error::ShapeMismatch {
                    op: "normalization",
                    what,
                    expected: format!("1 or {n} values (shape {shape:?})"),
                    actual: vec![len],
                }),
            }
        };
        let mean = expand(mean, "mean")?;
        let std = expand(var, "variance")?
            .into_iter()
            .map(std_floor)
            .collect();
        Ok((mean, std))
    }
}

impl Layer for Normalization {
    fn class_name(&self) -> &'static str {
        "Normalization"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        self.stats_shape(inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        if self.stats.is_some() {
            return Ok(Vec::new());
        }
        let input = inputs[0];
        let kept: Vec<usize> = self
            .stats_shape(input)?
            .iter()
            .zip(input)
            .enumerate()
            .filter(|(k, _)| {
                let rank = input.len() as i64 + 1;
                self.axis
                    .iter()
                    .any(|&a| (if a < 0 { a + rank } else { a }) == *k as i64 + 1)
            })
            .map(|(_, (_, &d))| d)
            .collect();
        Ok(vec![
            WeightSpec::frozen("mean", kept.clone()),
            WeightSpec::frozen("variance", kept),
            WeightSpec {
                // An integer count Keras keeps for adapt(); unused at inference.
                inference: false,
                ..WeightSpec::frozen("count", vec![])
            },
        ])
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        vec![if self.invert {
            "mean + x · maximum(sqrt(variance), 1e-7)".into()
        } else {
            "(x − mean) / maximum(sqrt(variance), 1e-7)".into()
        }]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        self.normalize(inputs[0], weights, reference::binary)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        self.normalize(inputs[0], weights, crate::cpu::binary)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let input = l.input_shape(0).to_vec();
        let shape = self.stats_shape(&input)?;
        let this = self.clone();
        let moments_input = input.clone();
        let mean = l.upload("mean", |w| Ok(this.moments(&moments_input, w)?.0))?;
        let std = l.upload("std", |w| Ok(this.moments(&input, w)?.1))?;
        let x = l.input(0);
        let out = l.output()?;
        let (m, s) = (
            Operand::Weight(mean, shape.clone()),
            Operand::Weight(std, shape),
        );
        if self.invert {
            emit_binary(l.builder(), BinaryOp::Multiply, Some(x), s, out, 1.0)?;
            emit_binary(l.builder(), BinaryOp::Add, None, m, out, 1.0)
        } else {
            emit_binary(l.builder(), BinaryOp::Subtract, Some(x), m, out, 1.0)?;
            emit_binary(l.builder(), BinaryOp::Divide, None, s, out, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::std_floor;

    #[test]
    fn the_floor_keeps_nan_as_keras_does() {
        assert!(std_floor(-1.0).is_nan());
        assert!(std_floor(f32::NAN).is_nan());
        assert!(std_floor(f32::NEG_INFINITY).is_nan());
        for v in [0.0, -0.0, 1e-40, -1e-40, 1e-20] {
            assert_eq!(std_floor(v), 1e-7, "{v}");
        }
        assert_eq!(std_floor(f32::INFINITY), f32::INFINITY);
        assert_eq!(std_floor(4.0), 2.0);
    }
}
