use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// BatchNormalization at inference on the CPU, over the last axis:
/// `y = gamma·(x − moving_mean)/sqrt(moving_variance + epsilon) + beta`.
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
            let norm = (f64::from(x) - f64::from(mean.data()[c]))
                / (f64::from(variance.data()[c]) + epsilon).sqrt();
            (norm * scale + shift) as f32
        })
        .collect();
    Tensor::new(input.shape().to_vec(), out)
}
