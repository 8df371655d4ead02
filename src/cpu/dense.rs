use super::gemm::matmul;
use super::{finish_rows, internal};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Dense on the last axis as one GEMM: `(rows × in) · (in × units)`, then bias and activation.
pub fn dense(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let features = input.shape().last().copied().unwrap_or(0);
    let [k_in, units] = *kernel.shape() else {
        return Err(Error::ShapeMismatch {
            op: "dense",
            what: "kernel",
            expected: "(in_features, units)".into(),
            actual: kernel.shape().to_vec(),
        });
    };
    if k_in != features || features == 0 || bias.is_some_and(|b| b.shape() != [units]) {
        return Err(Error::ShapeMismatch {
            op: "dense",
            what: if k_in != features || features == 0 {
                "kernel"
            } else {
                "bias"
            },
            expected: format!("kernel ({features}, units) and bias (units,)"),
            actual: kernel.shape().to_vec(),
        });
    }
    let rows = input.data().len() / features;
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
