//! The fast CPU backend: the compute-bound ops (Conv2D, Dense) as multi-threaded SIMD GEMMs,
//! element-wise layers in parallel chunks, so that "GPU versus CPU" compares against a CPU path
//! worth comparing against. Layers without a fast path here use [`crate::reference`].
//!
//! Results equal the reference up to float32 rounding (it accumulates in f64; the GEMM in f32,
//! in its own order); the tests hold them to a tolerance that grows with the reduction length.

mod border2d;
mod conv2d;
mod conv2d_transpose;
mod dense;
mod depthwise;
mod elementwise;
mod gemm;
mod pool2d;

use rayon::prelude::*;

pub use crate::limits::{check_tensor, memory_limit, MEMORY_LIMIT_ENV};
pub use border2d::border2d;
pub use conv2d::{conv2d, conv2d_with};
pub use conv2d_transpose::conv2d_transpose;
pub use dense::{dense, dense_with};
pub use depthwise::{depthwise_conv2d, depthwise_conv2d_with};
pub use elementwise::{affine, binary, map, map_fn, map_with};
pub use pool2d::{avg_pool2d, max_pool2d};

use crate::activation::{Activation, ElementFn};
use crate::error::Error;
use crate::tensor::Tensor;

/// What happens to each output row of a GEMM-like op before it is stored: `func(x·scale +
/// shift)` per channel, all optional — a layer's bias and activation, or those with a fused
/// BatchNormalization folded in.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// Per-channel scale.
    pub scale: Option<&'a [f32]>,
    /// Per-channel shift (the bias).
    pub shift: Option<&'a [f32]>,
    /// A tensor of the output's shape added after the shift (a fused residual `Add`).
    pub residual: Option<&'a [f32]>,
    /// Applied last.
    pub func: ElementFn,
}

impl<'a> Finish<'a> {
    /// A layer's own bias and activation.
    pub fn bias(bias: Option<&'a Tensor>, activation: Activation) -> Self {
        Self {
            scale: None,
            shift: bias.map(Tensor::data),
            residual: None,
            func: ElementFn::Activation(activation),
        }
    }
}

/// Applies `finish` to every `width`-long row, on all cores. The residual, when there is one,
/// must be as long as `out` (the callers check it against the output's shape).
fn finish_rows(out: &mut [f32], width: usize, finish: Finish<'_>) {
    if finish.scale.is_none()
        && finish.shift.is_none()
        && finish.residual.is_none()
        && finish.func == ElementFn::LINEAR
    {
        return;
    }
    let width = width.max(1);
    let block = width * (4096 / width).max(1);
    out.par_chunks_mut(block).enumerate().for_each(|(b, rows)| {
        let start = b * block;
        let residual = finish.residual.map(|r| &r[start..start + rows.len()]);
        for (i, row) in rows.chunks_exact_mut(width).enumerate() {
            if let Some(s) = finish.scale {
                row.iter_mut().zip(s).for_each(|(v, s)| *v *= s);
            }
            if let Some(t) = finish.shift {
                row.iter_mut().zip(t).for_each(|(v, t)| *v += t);
            }
            if let Some(r) = residual {
                let r = &r[i * width..(i + 1) * width];
                row.iter_mut().zip(r).for_each(|(v, r)| *v += r);
            }
            if finish.func != ElementFn::LINEAR {
                row.iter_mut().for_each(|v| *v = finish.func.apply_f32(*v));
            }
        }
    });
}

/// A GEMM refused its operands: sizes are computed in this module, so this is a wgcnn bug.
fn internal(op: &'static str) -> Error {
    Error::Internal {
        op,
        message: "CPU GEMM operand sizes disagree".into(),
    }
}
