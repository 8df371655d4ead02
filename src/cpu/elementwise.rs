//! Element-wise layers on all cores: memory-bound, so the point is one pass over the data in
//! parallel chunks, in f32 storage (each value still computed in f64, like the reference).

use rayon::prelude::*;

use crate::activation::{Activation, ElementFn};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Values per parallel task: large enough to amortize scheduling, small enough to balance.
const CHUNK: usize = 16 * 1024;

/// `activation` applied to every value.
pub fn map(input: &Tensor, activation: Activation) -> Result<Tensor> {
    map_fn(input, ElementFn::Activation(activation))
}

/// `f` applied to every value.
pub fn map_fn(input: &Tensor, f: ElementFn) -> Result<Tensor> {
    let mut out = input.data().to_vec();
    if f != ElementFn::LINEAR {
        out.par_chunks_mut(CHUNK)
            .for_each(|part| part.iter_mut().for_each(|v| *v = f.apply_f32(*v)));
    }
    Tensor::new(input.shape().to_vec(), out)
}

/// `f` applied to every value, computed in f64 and rounded once, like [`crate::reference::map`].
pub fn map_with(input: &Tensor, f: impl Fn(f64) -> f64 + Sync) -> Result<Tensor> {
    let mut out = input.data().to_vec();
    out.par_chunks_mut(CHUNK)
        .for_each(|part| part.iter_mut().for_each(|v| *v = f(f64::from(*v)) as f32));
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
                *v = ElementFn::Activation(activation).apply_f32(*v * s + t);
            }
        }
    });
    Tensor::new(input.shape().to_vec(), out)
}

/// `f(a, b)` element by element with NumPy broadcasting over all axes but the batch (which
/// must agree), as [`crate::reference::binary`] computes it (each value in f64, rounded once),
/// but one pass over rows of the last axis on all cores.
pub fn binary(a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64 + Sync) -> Result<Tensor> {
    let apply = |x: f32, y: f32| f(f64::from(x), f64::from(y)) as f32;
    if a.shape() == b.shape() {
        let mut out = a.data().to_vec();
        out.par_chunks_mut(CHUNK)
            .zip(b.data().par_chunks(CHUNK))
            .for_each(|(o, y)| o.iter_mut().zip(y).for_each(|(v, &y)| *v = apply(*v, y)));
        return Tensor::new(a.shape().to_vec(), out);
    }
    let out = crate::shape::broadcast_batched(a.shape(), b.shape())?;
    let strides_a = broadcast_strides(a.shape(), &out);
    let strides_b = broadcast_strides(b.shape(), &out);
    let width = out.last().copied().unwrap_or(1).max(1);
    let (step_a, step_b) = (strides_a[out.len() - 1], strides_b[out.len() - 1]);
    let total: usize = out.iter().product();
    let mut data = vec![0.0f32; total];
    let rows_per_task = (CHUNK / width).max(1);
    let (xa, xb) = (a.data(), b.data());
    data.par_chunks_mut(rows_per_task * width)
        .enumerate()
        .for_each(|(task, part)| {
            for (k, row) in part.chunks_exact_mut(width).enumerate() {
                // The row's index over the outer axes gives where it starts in each input.
                let mut r = task * rows_per_task + k;
                let (mut oa, mut ob) = (0, 0);
                for d in (0..out.len() - 1).rev() {
                    let i = r % out[d];
                    r /= out[d];
                    oa += i * strides_a[d];
                    ob += i * strides_b[d];
                }
                for (j, v) in row.iter_mut().enumerate() {
                    *v = apply(xa[oa + j * step_a], xb[ob + j * step_b]);
                }
            }
        });
    Tensor::new(out, data)
}

/// Per axis of `out`, how far one step moves in a tensor of `shape` (right-aligned, its
/// leading axes after the batch broadcast): 0 where the tensor is broadcast along the axis.
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; out.len()];
    let mut stride = 1;
    // The batch axis is axis 0 of both; the others align at the right.
    let inner = &shape[1..];
    let lead = out.len() - 1 - inner.len();
    for (k, &n) in inner.iter().enumerate().rev() {
        strides[1 + lead + k] = if n == 1 { 0 } else { stride };
        stride *= n;
    }
    strides[0] = stride;
    strides
}
