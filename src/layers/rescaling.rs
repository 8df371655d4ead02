//! Keras `Rescaling(scale, offset)`: `x · scale + offset`, each a number or per-channel values.

use serde_json::Value;

use super::config::{number, Config};
use super::shapes::last;
use super::Layer;
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_binary, emit_unary, BinaryOp, Operand, Unary};
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Rescaling(scale, offset=0.0)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rescaling {
    /// One value, or one per channel.
    pub scale: Vec<f32>,
    /// One value, or one per channel.
    pub offset: Vec<f32>,
}

/// A number or a flat list of numbers from a config value.
pub(crate) fn numbers(c: &Config<'_>, key: &str, default: f32) -> Result<Vec<f32>> {
    fn flatten(v: &Value, out: &mut Vec<f32>) -> bool {
        match v {
            Value::Array(items) => items.iter().all(|i| flatten(i, out)),
            v => number(v).map(|x| out.push(x as f32)).is_some(),
        }
    }
    match c.get(key) {
        None => Ok(vec![default]),
        Some(v) => {
            let mut out = Vec::new();
            if flatten(v, &mut out) && !out.is_empty() {
                Ok(out)
            } else {
                Err(c.error(format!("'{key}' must be a number or a list of numbers")))
            }
        }
    }
}

impl Rescaling {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["scale", "offset"])?;
        Ok(Self {
            scale: numbers(c, "scale", 1.0)?,
            offset: numbers(c, "offset", 0.0)?,
        })
    }

    /// `v` expanded to `channels` values (a single value repeats).
    fn per_channel(v: &[f32], channels: usize) -> Result<Vec<f32>> {
        match v.len() {
            1 => Ok(vec![v[0]; channels]),
            n if n == channels => Ok(v.to_vec()),
            n => Err(Error::ShapeMismatch {
                op: "rescaling",
                what: "scale",
                expected: format!("1 or {channels} values (the channels)"),
                actual: vec![n],
            }),
        }
    }
}

impl Layer for Rescaling {
    fn class_name(&self) -> &'static str {
        "Rescaling"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let c = last("rescaling", inputs[0])?;
        Self::per_channel(&self.scale, c)?;
        Self::per_channel(&self.offset, c)?;
        Ok(inputs[0].to_vec())
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        vec![format!(
            "x · {:?} + {:?}; params = 0",
            self.scale, self.offset
        )]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let c = last("rescaling", x.shape())?;
        let scale = Self::per_channel(&self.scale, c)?;
        let offset = Self::per_channel(&self.offset, c)?;
        let data = x
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                // Keras rounds the product to float32 before adding the offset.
                let y = (f64::from(v) * f64::from(scale[i % c])) as f32;
                (f64::from(y) + f64::from(offset[i % c])) as f32
            })
            .collect();
        Tensor::new(x.shape().to_vec(), data)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let c = last("rescaling", x.shape())?;
        let _ = weights;
        crate::cpu::affine(
            x,
            &Self::per_channel(&self.scale, c)?,
            &Self::per_channel(&self.offset, c)?,
            Activation::Linear,
        )
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        let c = last("rescaling", l.input_shape(0))?;
        let out = l.output()?;
        if self.scale.len() == 1 && self.offset.len() == 1 {
            let mut unary = Unary::activation(Activation::Linear);
            unary.scalar = Some((self.scale[0], self.offset[0]));
            return emit_unary(l.builder(), unary, x, out);
        }
        // Per-channel: x · scale, then + offset, as Keras rounds them.
        let scale = Self::per_channel(&self.scale, c)?;
        let offset = Self::per_channel(&self.offset, c)?;
        let s = l.upload("scale", |_| Ok(scale))?;
        let o = l.upload("offset", |_| Ok(offset))?;
        emit_binary(
            l.builder(),
            BinaryOp::Multiply,
            Some(x),
            Operand::Weight(s, vec![c]),
            out,
            1.0,
        )?;
        emit_binary(
            l.builder(),
            BinaryOp::Add,
            None,
            Operand::Weight(o, vec![c]),
            out,
            1.0,
        )
    }

    fn writes_channel_slices(&self) -> bool {
        self.scale.len() == 1 && self.offset.len() == 1
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_accepts_scalars_and_nested_lists() {
        let config = serde_json::json!({"scale": [[0.5, 2.0]], "offset": 1});
        let map = config.as_object().unwrap();
        let c = super::Config {
            config: map,
            args: &[],
        };
        assert_eq!(super::numbers(&c, "scale", 1.0).unwrap(), vec![0.5, 2.0]);
        assert_eq!(super::numbers(&c, "offset", 0.0).unwrap(), vec![1.0]);
    }
}
