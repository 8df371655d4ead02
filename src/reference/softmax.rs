use crate::activation::nan_max;
use crate::error::Result;
use crate::tensor::Tensor;

/// Softmax (or, with `log`, log-softmax) over the last axis on the CPU, exactly as
/// `jax.nn.softmax` computes it: shifted by the row maximum (NaN if the row holds a NaN), so a
/// NaN or an infinite maximum makes the row NaN, as in Keras.
pub fn softmax(input: &Tensor, log: bool) -> Result<Tensor> {
    let axis = input.shape().len().saturating_sub(1);
    softmax_axis(input, axis, log)
}

/// [`softmax`] along `axis` (an index into the tensor's shape, batch included).
pub fn softmax_axis(input: &Tensor, axis: usize, log: bool) -> Result<Tensor> {
    let shape = input.shape();
    let cols = shape.get(axis).copied().unwrap_or(1).max(1);
    let inner: usize = shape.get(axis + 1..).unwrap_or_default().iter().product();
    let x = input.data();
    let mut out = vec![0.0f32; x.len()];
    let rows = x.len() / cols;
    for r in 0..rows {
        let base = (r / inner) * cols * inner + r % inner;
        let at = |i: usize| base + i * inner;
        let max = (0..cols).fold(f64::NEG_INFINITY, |m, i| nan_max(m, f64::from(x[at(i)])));
        let sum: f64 = (0..cols).map(|i| (f64::from(x[at(i)]) - max).exp()).sum();
        for i in 0..cols {
            let shifted = f64::from(x[at(i)]) - max;
            out[at(i)] = if log {
                (shifted - sum.ln()) as f32
            } else {
                (shifted.exp() / sum) as f32
            };
        }
    }
    Tensor::new(shape.to_vec(), out)
}
