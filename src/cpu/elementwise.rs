//! Element-wise layers on all cores: memory-bound, so the point is one pass over the data in
//! parallel chunks, in f32 storage (each value still computed in f64, like the reference).

use rayon::prelude::*;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Values per parallel task: large enough to amortize scheduling, small enough to balance.
const CHUNK: usize = 16 * 1024;

/// `activation` applied to every value.
pub fn map(input: &Tensor, activation: Activation) -> Result<Tensor> {
    let mut out = input.data().to_vec();
    if activation != Activation::Linear {
        out.par_chunks_mut(CHUNK).for_each(|part| {
            part.iter_mut()
                .for_each(|v| *v = activation.apply(f64::from(*v)) as f32)
        });
    }
    Tensor::new(input.shape().to_vec(), out)
}

/// `activation(x·scale[c] + shift[c])` with `c` the last axis (BatchNormalization folded,
/// per-channel Rescaling).
pub fn affine(
    input: &Tensor,
    scale: &[f32],
    shift: &[f32],
    activation: Activation,
) -> Result<Tensor> {
    let channels = input.shape().last().copied().unwrap_or(0);
    if scale.len() != channels || shift.len() != channels || channels == 0 {
        return Err(Error::ShapeMismatch {
            op: "affine",
            what: "scale",
            expected: format!("({channels},)"),
            actual: vec![scale.len()],
        });
    }
    let mut out = input.data().to_vec();
    let rows = (CHUNK / channels).max(1) * channels;
    out.par_chunks_mut(rows).for_each(|part| {
        for row in part.chunks_exact_mut(channels) {
            for ((v, &s), &t) in row.iter_mut().zip(scale).zip(shift) {
                let y = *v * s + t;
                *v = if activation == Activation::Linear {
                    y
                } else {
                    activation.apply(f64::from(y)) as f32
                };
            }
        }
    });
    Tensor::new(input.shape().to_vec(), out)
}
