use crate::activation::nan_max;
use crate::error::Result;
use crate::tensor::Tensor;

/// Softmax (or, with `log`, log-softmax) over the last axis on the CPU, exactly as
/// `jax.nn.softmax` computes it: shifted by the row maximum (NaN if the row holds a NaN), so a
/// NaN or an infinite maximum makes the row NaN, as in Keras.
pub fn softmax(input: &Tensor, log: bool) -> Result<Tensor> {
    let cols = input.shape().last().copied().unwrap_or(1).max(1);
    let mut out = Vec::with_capacity(input.data().len());
    for row in input.data().chunks(cols) {
        let max = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| nan_max(m, f64::from(v)));
        let shifted: Vec<f64> = row.iter().map(|&v| f64::from(v) - max).collect();
        let sum: f64 = shifted.iter().map(|s| s.exp()).sum();
        if log {
            out.extend(shifted.iter().map(|s| (s - sum.ln()) as f32));
        } else {
            out.extend(shifted.iter().map(|s| (s.exp() / sum) as f32));
        }
    }
    Tensor::new(input.shape().to_vec(), out)
}
