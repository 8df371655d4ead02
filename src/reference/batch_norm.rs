use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// BatchNormalization at inference on the CPU, over the last axis, in Keras's order of
/// operations: `inv = gamma/sqrt(moving_variance + epsilon)`, `y = x·inv + (beta −
/// moving_mean·inv)`, the sum under the root in float32 as Keras adds it. The order decides
/// the non-finite results: a variance of exactly −epsilon makes `inv` infinite, and Keras then
/// gives NaN (inf − inf) where `(x − mean)·inv` would give an infinity.
/// `gamma` and `beta` are optional (Keras's `scale=False`, `center=False`).
pub fn batch_norm(
    input: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    mean: &Tensor,
    variance: &Tensor,
    epsilon: f64,
) -> Result<Tensor> {
    let channels = input.shape().last().copied().unwrap_or(0);
    for (what, t) in [
        ("gamma", gamma),
        ("beta", beta),
        ("moving_mean", Some(mean)),
        ("moving_variance", Some(variance)),
    ] {
        if let Some(t) = t {
            if t.shape() != [channels] {
                return Err(Error::ShapeMismatch {
                    op: "batch_norm",
                    what,
                    expected: format!("({channels},)"),
                    actual: t.shape().to_vec(),
                });
            }
        }
    }
    let out = input
        .data()
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let c = i % channels.max(1);
            let scale = gamma.map_or(1.0, |g| f64::from(g.data()[c]));
            let shift = beta.map_or(0.0, |b| f64::from(b.data()[c]));
            let sum = f64::from(variance.data()[c] + epsilon as f32);
            let inv = sum.sqrt().recip() * scale;
            (f64::from(x) * inv + (shift - f64::from(mean.data()[c]) * inv)) as f32
        })
        .collect();
    Tensor::new(input.shape().to_vec(), out)
}
