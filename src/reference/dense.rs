use crate::activation::Activation;
use crate::error::Result;
use crate::specs::check_dense;
use crate::tensor::Tensor;

/// Dense on the CPU, on the last axis: `y[.., u] = activation(Σ_i x[.., i]·W[i, u] + b[u])`,
/// with `W` shaped `(in_features, units)` as Keras stores it.
pub fn dense(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let (rows, features, units) =
        check_dense(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    let (x, w) = (input.data(), kernel.data());
    let mut out = Vec::with_capacity(rows * units);
    for r in 0..rows {
        for u in 0..units {
            let mut acc = bias.map_or(0.0, |b| f64::from(b.data()[u]));
            for i in 0..features {
                acc += f64::from(x[r * features + i]) * f64::from(w[i * units + u]);
            }
            out.push(activation.apply(acc) as f32);
        }
    }
    let mut shape = input.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = units;
    }
    Tensor::new(shape, out)
}
