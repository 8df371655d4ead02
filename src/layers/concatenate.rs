//! Keras `Concatenate(axis)`. On the GPU, along the channels, producers that can write a channel
//! slice of a larger tensor write straight into the output (the graph places them there before
//! they are lowered), and only the other inputs are copied.

use super::config::Config;
use super::Layer;
use crate::error::{Error, Result};
use crate::gpu::kernels::emit_copy;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Concatenate(axis=-1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concatenate {
    /// Keras's axis, counted with the batch axis (−1: the last).
    pub axis: i64,
}

impl Concatenate {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["axis"])?;
        Ok(Self {
            axis: c.axis_value("axis", -1)?,
        })
    }

    /// The axis as an index into per-example shapes of rank `rank`.
    fn axis_index(&self, rank: usize) -> Result<usize> {
        let r = rank as i64;
        let k = if self.axis < 0 {
            self.axis + r + 1
        } else {
            self.axis
        };
        if k < 1 || k > r {
            return Err(Error::InvalidConfig {
                op: "concatenate",
                reason: format!(
                    "axis {} is not one of the axes after the batch of a rank-{} input",
                    self.axis,
                    rank + 1
                ),
            });
        }
        Ok((k - 1) as usize)
    }

    /// `(outer rows per example, widths of each input's block, output block)` with the axis
    /// and everything after it flattened into rows.
    fn blocks(&self, inputs: &[&[usize]]) -> Result<(usize, Vec<usize>, usize)> {
        let axis = self.axis_index(inputs[0].len())?;
        let outer: usize = inputs[0][..axis].iter().product();
        let widths: Vec<usize> = inputs.iter().map(|s| s[axis..].iter().product()).collect();
        let total = widths.iter().sum();
        Ok((outer, widths, total))
    }
}

impl Layer for Concatenate {
    fn class_name(&self) -> &'static str {
        "Concatenate"
    }

    fn arity(&self) -> (usize, usize) {
        (1, usize::MAX)
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let first = inputs[0];
        let axis = self.axis_index(first.len())?;
        let mut out = first.to_vec();
        for s in &inputs[1..] {
            let same_elsewhere = s.len() == first.len()
                && s.iter()
                    .zip(first)
                    .enumerate()
                    .all(|(k, (a, b))| k == axis || a == b);
            if !same_elsewhere {
                return Err(Error::ShapeMismatch {
                    op: "concatenate",
                    what: "inputs",
                    expected: format!("shapes equal to {first:?} except along axis {}", self.axis),
                    actual: s.to_vec(),
                });
            }
            out[axis] = out[axis].checked_add(s[axis]).ok_or(Error::Overflow {
                op: "concatenate",
                what: "output",
            })?;
        }
        Ok(out)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let axis = self.axis_index(inputs[0].len()).unwrap_or(0);
        let parts: Vec<String> = inputs.iter().map(|s| s[axis].to_string()).collect();
        vec![format!(
            "axis {}: out = {} = {}; params = 0",
            self.axis,
            parts.join(" + "),
            output[axis]
        )]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| &t.shape()[1..]).collect();
        let out_shape = self.output_shape(&shapes)?;
        let (outer, widths, total) = self.blocks(&shapes)?;
        let batch = inputs[0].shape()[0];
        let mut data = Vec::with_capacity(batch * outer * total);
        for row in 0..batch * outer {
            for (x, w) in inputs.iter().zip(&widths) {
                data.extend_from_slice(&x.data()[row * w..(row + 1) * w]);
            }
        }
        Tensor::new([&[batch][..], &out_shape].concat(), data)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shapes: Vec<Vec<usize>> = (0..l.input_count())
            .map(|i| l.input_shape(i).to_vec())
            .collect();
        let refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let (outer, widths, total) = self.blocks(&refs)?;
        let out = l.output()?;
        let mut offset = 0;
        for (i, w) in widths.iter().enumerate() {
            let x = l.input(i);
            // Already written in place by its producer?
            if !l.builder().is_slice_of(x, out, offset) {
                emit_copy(l.builder(), x, outer, *w, out, total, offset)?;
            }
            offset += w;
        }
        Ok(())
    }

    fn channel_slices(&self, inputs: &[&[usize]]) -> Option<Vec<usize>> {
        let rank = inputs.first()?.len();
        if self.axis_index(rank).ok()? + 1 != rank {
            return None;
        }
        let mut offset = 0;
        Some(
            inputs
                .iter()
                .map(|s| {
                    let at = offset;
                    offset += s.last().copied().unwrap_or(0);
                    at
                })
                .collect(),
        )
    }
}
