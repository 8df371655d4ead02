use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Dense on the CPU, on the last axis: `y[.., u] = activation(Σ_i x[.., i]·W[i, u] + b[u])`,
/// with `W` shaped `(in_features, units)` as Keras stores it.
pub fn dense(
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let mismatch = |what, expected: String, actual: &[usize]| Error::ShapeMismatch {
        op: "dense",
        what,
        expected,
        actual: actual.to_vec(),
    };
    let features = *input
        .shape()
        .last()
        .ok_or_else(|| mismatch("input", "at least one axis".into(), input.shape()))?;
    let [k_in, units] = *kernel.shape() else {
        return Err(mismatch(
            "kernel",
            "(in_features, units)".into(),
            kernel.shape(),
        ));
    };
    if k_in != features {
        return Err(mismatch(
            "kernel",
            format!("({features}, units)"),
            kernel.shape(),
        ));
    }
    if let Some(b) = bias {
        if b.shape() != [units] {
            return Err(mismatch("bias", format!("({units},)"), b.shape()));
        }
    }
    let (x, w) = (input.data(), kernel.data());
    let rows = x.len() / features.max(1);
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
