//! The fast CPU backend: the compute-bound ops (Conv2D, Dense) as multi-threaded SIMD GEMMs,
//! element-wise layers in parallel chunks, so that "GPU versus CPU" compares against a CPU path
//! worth comparing against. Layers without a fast path here use [`crate::reference`].
//!
//! Results equal the reference up to float32 rounding (it accumulates in f64; the GEMM in f32,
//! in its own order); the tests hold them to a tolerance that grows with the reduction length.

mod conv2d;
mod conv2d_transpose;
mod dense;
mod depthwise;
mod elementwise;
mod gemm;

use rayon::prelude::*;

pub use conv2d::conv2d;
pub use conv2d_transpose::conv2d_transpose;
pub use dense::dense;
pub use depthwise::depthwise_conv2d;
pub use elementwise::{affine, map};

use crate::activation::Activation;
use crate::error::Error;
use crate::tensor::Tensor;

/// Adds the bias and applies the activation to every `width`-long row, on all cores.
fn finish_rows(out: &mut [f32], width: usize, bias: Option<&Tensor>, activation: Activation) {
    if bias.is_none() && activation == Activation::Linear {
        return;
    }
    out.par_chunks_mut(width.max(1) * 256).for_each(|rows| {
        for row in rows.chunks_exact_mut(width.max(1)) {
            if let Some(b) = bias {
                row.iter_mut().zip(b.data()).for_each(|(v, b)| *v += b);
            }
            if activation != Activation::Linear {
                row.iter_mut()
                    .for_each(|v| *v = activation.apply(f64::from(*v)) as f32);
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
