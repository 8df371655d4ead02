//! Keras `LayerNormalization` over the trailing axes: `(x − mean)·rsqrt(variance + ε)·gamma +
//! beta` per example, as `keras.ops.layer_normalization` computes it.

use serde_json::Value;

use super::config::Config;
use super::{weight, Layer, WeightSpec};
use crate::error::{Error, Result};
use crate::gpu::kernels::emit_layer_norm;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNormalization {
    /// The normalized axes, Keras-style (with the batch axis; negative from the end).
    pub axis: Vec<i64>,
    /// Added to the variance.
    pub epsilon: f64,
    /// Whether `beta` exists.
    pub center: bool,
    /// Whether `gamma` exists.
    pub scale: bool,
    /// Keras's deprecated `rms_scaling`: `x·rsqrt(variance + ε)·gamma`.
    pub rms_scaling: bool,
}

impl LayerNormalization {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["axis", "epsilon", "center", "scale", "rms_scaling"])?;
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
        Ok(Self {
            axis,
            epsilon: c.f64_or("epsilon", 1e-3)?,
            center: c.bool("center", true)?,
            scale: c.bool("scale", true)?,
            rms_scaling: c.bool("rms_scaling", false)?,
        })
    }

    /// How many trailing per-example axes are normalized together; they must be the last
    /// ones (a row of the flattened tensor).
    fn trailing(&self, input: &[usize]) -> Result<usize> {
        let rank = input.len() as i64 + 1;
        let mut axes: Vec<i64> = self
            .axis
            .iter()
            .map(|&a| if a < 0 { a + rank } else { a })
            .collect();
        axes.sort_unstable();
        axes.dedup();
        let k = axes.len() as i64;
        let expected: Vec<i64> = (rank - k..rank).collect();
        if k == 0 || axes != expected {
            return Err(Error::InvalidConfig {
                op: "layer_normalization",
                reason: format!(
                    "axis {:?} on a rank-{rank} input: only the trailing axes are supported",
                    self.axis
                ),
            });
        }
        Ok(k as usize)
    }

    fn row(&self, input: &[usize]) -> Result<usize> {
        let k = self.trailing(input)?;
        Ok(input[input.len() - k..].iter().product())
    }
}

impl Layer for LayerNormalization {
    fn class_name(&self) -> &'static str {
        "LayerNormalization"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        self.trailing(inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let k = self.trailing(inputs[0])?;
        let shape = inputs[0][inputs[0].len() - k..].to_vec();
        let mut w = Vec::new();
        if self.scale {
            w.push(WeightSpec::trainable("gamma", shape.clone()));
        }
        if self.center && !self.rms_scaling {
            w.push(WeightSpec::trainable("beta", shape));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let row = self.row(inputs[0]).unwrap_or(0);
        let n = usize::from(self.scale) + usize::from(self.center && !self.rms_scaling);
        vec![format!("params = {n} × {row} = {}", n.saturating_mul(row))]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let cols = self.row(&x.shape()[1..])?;
        let mut it = weights.iter();
        let gamma = if self.scale {
            Some(weight(weights, 0)?)
        } else {
            None
        };
        if gamma.is_some() {
            it.next();
        }
        let beta = if self.center && !self.rms_scaling {
            it.next()
        } else {
            None
        };
        let mut out = Vec::with_capacity(x.data().len());
        for row in x.data().chunks(cols.max(1)) {
            let n = row.len() as f64;
            // Sums in f64, saturated where Keras's float32 sums overflow (a row of two
            // 3.4e38 has an infinite mean, and so an all-NaN output, in Keras).
            let mean = as_f32_sum(row.iter().map(|&v| f64::from(v)).sum::<f64>()) / n;
            let var = as_f32_sum(
                row.iter()
                    .map(|&v| as_f32_sum((f64::from(v) - mean).powi(2)))
                    .sum::<f64>(),
            ) / n;
            let rstd = (var + self.epsilon).sqrt().recip();
            for (i, &v) in row.iter().enumerate() {
                let g = gamma.map_or(1.0, |t| f64::from(t.data()[i]));
                let inv = rstd * g;
                let y = if self.rms_scaling {
                    f64::from(v) * inv
                } else {
                    let b = beta.map_or(0.0, |t| f64::from(t.data()[i]));
                    (f64::from(v) - mean) * inv + b
                };
                out.push(y as f32);
            }
        }
        Tensor::new(x.shape().to_vec(), out)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let input = l.input_shape(0).to_vec();
        let cols = self.row(&input)?;
        let rows = input.iter().product::<usize>() / cols.max(1);
        let gamma = if self.scale {
            Some(l.upload("gamma", |w| Ok(weight(w, 0)?.data().to_vec()))?)
        } else {
            None
        };
        let beta = if self.center && !self.rms_scaling {
            let i = usize::from(self.scale);
            Some(l.upload("beta", |w| Ok(weight(w, i)?.data().to_vec()))?)
        } else {
            None
        };
        let x = l.input(0);
        let out = l.output()?;
        let batch = l.tune_batch();
        emit_layer_norm(
            l.builder(),
            batch,
            rows,
            cols,
            self.epsilon as f32,
            gamma,
            beta,
            self.rms_scaling,
            x,
            out,
        )
    }
}

/// An f64 sum as a float32 sum would end: ±inf past f32's range.
fn as_f32_sum(s: f64) -> f64 {
    if s.abs() > f64::from(f32::MAX) {
        s.signum() * f64::INFINITY
    } else {
        s
    }
}
