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
    finish_rows(&mut out, units, finish);
    let mut shape = input.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = units;
    }
    Tensor::new(shape, out)
}
