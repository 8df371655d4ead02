//! Keras `Embedding(input_dim, output_dim)`: integer ids to rows of a table.

use super::config::Config;
use super::shapes::product;
use super::{weight, Layer, WeightSpec};
use crate::error::{Error, Result};
use crate::gpu::kernels::emit_embedding;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Embedding(input_dim, output_dim)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedding {
    /// Vocabulary size.
    pub input_dim: usize,
    /// Row length.
    pub output_dim: usize,
}

impl Embedding {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["input_dim", "output_dim", "mask_zero"])?;
        if c.bool("mask_zero", false)? {
            return Err(c.error("mask_zero=True (masking the layers after it) is not supported"));
        }
        Ok(Self {
            input_dim: c.positive("input_dim", None)?,
            output_dim: c.positive("output_dim", None)?,
        })
    }

    /// The table row of an id as Keras on JAX picks it. Keras casts a float input to int32 the
    /// way XLA converts: truncated toward zero, NaN to 0, ±inf and anything past int32's range
    /// saturated (Rust's `as` does the same). `jnp.take` then counts ids in `[-vocab, 0)` from
    /// the end and gives a row of NaN (`None`) for every other id out of range.
    fn row(&self, id: f32) -> Option<usize> {
        let id = i64::from(id as i32);
        let vocab = i64::try_from(self.input_dim).ok()?;
        let id = if id < 0 { id + vocab } else { id };
        usize::try_from(id).ok().filter(|&r| r < self.input_dim)
    }
}

impl Layer for Embedding {
    fn class_name(&self) -> &'static str {
        "Embedding"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let mut out = inputs[0].to_vec();
        out.push(self.output_dim);
        product("embedding", &out)?;
        Ok(out)
    }

    fn weights(&self, _inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        Ok(vec![WeightSpec::trainable(
            "embeddings",
            vec![self.input_dim, self.output_dim],
        )])
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        vec![format!(
            "params = {} × {} = {}",
            self.input_dim,
            self.output_dim,
            self.input_dim.saturating_mul(self.output_dim)
        )]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let table = weight(weights, 0)?;
        let d = self.output_dim;
        if table.data().len() != self.input_dim * d {
            return Err(Error::ShapeMismatch {
                op: "embedding",
                what: "embeddings",
                expected: format!("({}, {d})", self.input_dim),
                actual: table.shape().to_vec(),
            });
        }
        let mut data = Vec::with_capacity(x.data().len() * d);
        for &id in x.data() {
            match self.row(id) {
                Some(r) => data.extend_from_slice(&table.data()[r * d..(r + 1) * d]),
                None => data.extend(std::iter::repeat_n(f32::NAN, d)),
            }
        }
        Tensor::new([x.shape(), &[d]].concat(), data)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let ids = product("embedding", l.input_shape(0))?;
        let table = l.upload("embeddings", |w| Ok(weight(w, 0)?.data().to_vec()))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_embedding(
            l.builder(),
            ids,
            self.input_dim,
            self.output_dim,
            x,
            table,
            out,
        )
    }
}
