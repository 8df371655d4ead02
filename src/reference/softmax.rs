use crate::error::Result;
use crate::tensor::Tensor;

/// Softmax over the last axis on the CPU, shifted by the row maximum as Keras does.
pub fn softmax(input: &Tensor) -> Result<Tensor> {
    let cols = input.shape().last().copied().unwrap_or(1).max(1);
    let mut out = Vec::with_capacity(input.data().len());
    for row in input.data().chunks(cols) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f64> = row.iter().map(|&v| f64::from(v - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        out.extend(exps.iter().map(|e| (e / sum) as f32));
    }
    Tensor::new(input.shape().to_vec(), out)
}
