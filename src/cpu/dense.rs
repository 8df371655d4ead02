use rayon::prelude::*;

use super::gemm::matmul;
use super::{finish_rows, internal, Finish};
use crate::activation::Activation;
use crate::error::Result;
use crate::specs::check_dense;
use crate::tensor::Tensor;

/// Dense on the last axis as one GEMM: `(rows × in) · (in × units)`, then bias and activation.
pub fn dense(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    check_dense(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    dense_with(input, kernel, Finish::bias(bias, activation))
}

/// [`dense`] with the output rows finished by `finish` (a fused epilogue).
pub fn dense_with(input: &Tensor, kernel: &Tensor, finish: Finish<'_>) -> Result<Tensor> {
    let (rows, features, units) = check_dense(input.shape(), kernel.shape(), None)?;
    let mut out = vec![0.0f32; rows * units];
    if rows <= GEMV_ROWS {
        gemv(rows, features, units, input.data(), kernel.data(), &mut out);
    } else if !matmul(
        rows,
        units,
        features,
        input.data(),
        kernel.data(),
        &mut out,
        rayon::current_num_threads(),
    ) {
        return Err(internal("dense"));
    }
    finish_rows(&mut out, units, finish);
    let mut shape = input.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = units;
    }
    Tensor::new(shape, out)
}

/// Up to this many rows, Dense is a matrix-vector product bound by reading the kernel once.
const GEMV_ROWS: usize = 4;
/// Kernel rows (input features) per task: about 1 MB of a 1000-unit kernel, long enough to
/// stream, short enough to give every core several tasks.
const GEMV_CHUNK_BYTES: usize = 1 << 20;

/// `out = x · kernel` for a few rows: the kernel streamed once, in chunks of whole rows (input
/// features) on all cores, each chunk's partial rows summed at the end. The GEMM crate runs a
/// one-row product on one core, far below memory bandwidth (VGG16's 25088 × 4096 `fc1`).
fn gemv(rows: usize, features: usize, units: usize, x: &[f32], kernel: &[f32], out: &mut [f32]) {
    if units == 0 || features == 0 {
        return;
    }
    let chunk = (GEMV_CHUNK_BYTES / (4 * units)).clamp(1, features);
    let partial = |k0: usize| {
        let k1 = (k0 + chunk).min(features);
        let mut acc = vec![0.0f32; rows * units];
        for k in k0..k1 {
            let w = &kernel[k * units..(k + 1) * units];
            for (r, acc) in acc.chunks_exact_mut(units).enumerate() {
                let xv = x[r * features + k];
                for (a, &wv) in acc.iter_mut().zip(w) {
                    *a += xv * wv;
                }
            }
        }
        acc
    };
    let sum = (0..features)
        .into_par_iter()
        .step_by(chunk)
        .map(partial)
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        });
    if let Some(sum) = sum {
        out.copy_from_slice(&sum);
    }
}
