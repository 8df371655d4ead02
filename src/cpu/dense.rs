use super::gemm::matmul;
use super::{finish_rows, internal};
use crate::activation::Activation;
use crate::error::Result;
use crate::ops::check_dense;
use crate::tensor::Tensor;

/// Dense on the last axis as one GEMM: `(rows × in) · (in × units)`, then bias and activation.
pub fn dense(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let (rows, features, units) =
        check_dense(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    let mut out = vec![0.0f32; rows * units];
    if !matmul(
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
    finish_rows(&mut out, units, bias, activation);
    let mut shape = input.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = units;
    }
    Tensor::new(shape, out)
}
