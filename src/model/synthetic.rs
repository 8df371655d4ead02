//! Deterministic synthetic weights and inputs, reproducible bit for bit in Python by
//! `tools/keras_random.py`: for benchmarking an architecture without its weights
//! ([`Model::fill_synthetic_weights`], `wgcnn bench --synthetic-weights`), and for fixtures of
//! large models that commit only the architecture and Keras's output (tests regenerate the
//! weights and inputs Keras ran with: [`input_value`]). Not random initialisation for
//! training: the values only have plausible scales.
//!
//! Every value is exact in f32 on both sides: integer arithmetic, then one scaling by a power
//! of two. A weight's values are keyed `"<layer path>/<var index>"` (nested layers
//! `"outer/inner/<i>"`), a model input's `"input/<index>"`: the key's FNV-1a hash seeds a
//! SplitMix64 stream, whose top 24 bits give values in [-1, 1). Kernels are scaled by a power
//! of two near `sqrt(6 / fan_in)`, variances are `1 + |v|/2`, gammas `1 + v/4`, other vectors
//! `v/4`.

use super::graph::LayerOp;
use super::Model;
use crate::error::Result;
use crate::tensor::Tensor;

/// FNV-1a, 64 bits, of `text`'s UTF-8 bytes.
pub fn fnv1a64(text: &str) -> u64 {
    crate::hash::fnv1a64(text.bytes())
}

/// `n` SplitMix64 outputs seeded by `key`.
pub fn stream(key: &str, n: usize) -> impl Iterator<Item = u64> {
    let state = fnv1a64(key);
    (1..=n as u64).map(move |i| {
        let mut z = state.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// `n` values in [-1, 1), multiples of 2^-23.
fn signed(key: &str, n: usize) -> impl Iterator<Item = f64> {
    stream(key, n).map(|x| ((x >> 40) as i64 - (1 << 23)) as f64 / (1u64 << 23) as f64)
}

/// `k` in a kernel's scale `2^-k`, about `sqrt(6 / fan_in)`.
fn fan_in_shift(name: &str, shape: &[usize]) -> i32 {
    let fan_in: usize = if name == "depthwise_kernel" && shape.len() == 4 {
        shape[0] * shape[1]
    } else {
        shape[..shape.len() - 1].iter().product()
    };
    let bits = usize::BITS - (fan_in / 6).leading_zeros();
    (bits / 2) as i32
}

/// The synthetic values of one weight (`name`: Keras's variable name, `key`: its key).
pub fn weight_value(name: &str, shape: &[usize], key: &str) -> Result<Tensor> {
    let count = crate::tensor::element_count(shape);
    // A config of a few bytes can declare a weight of any size: refused, not allocated.
    crate::limits::check_tensor(count, || {
        format!("synthetic weight {key} of shape {shape:?}")
    })?;
    let n = count.unwrap_or(0);
    let scale = if shape.len() >= 2 && name != "embeddings" {
        2f64.powi(-fan_in_shift(name, shape))
    } else {
        1.0
    };
    let values = signed(key, n).map(|v| {
        (if name.contains("variance") {
            1.0 + v.abs() / 2.0
        } else if name == "gamma" {
            1.0 + v / 4.0
        } else if name == "count" {
            0.0
        } else if name == "embeddings" || shape.len() >= 2 {
            v * scale
        } else {
            v / 4.0
        }) as f32
    });
    Tensor::new(shape.to_vec(), values.collect())
}

/// Synthetic model input `index` of `shape` (batch included): uniform in [-1, 1), or integers
/// in `[0, int_range)` for token ids.
pub fn input_value(index: usize, shape: &[usize], int_range: Option<u64>) -> Result<Tensor> {
    let count = crate::tensor::element_count(shape);
    crate::limits::check_tensor(count, || {
        format!("synthetic input {index} of shape {shape:?}")
    })?;
    let n = count.unwrap_or(0);
    let key = format!("input/{index}");
    let data: Vec<f32> = match int_range {
        None => signed(&key, n).map(|v| v as f32).collect(),
        Some(r) => stream(&key, n)
            .map(|x| ((x >> 40) % r.max(1)) as f32)
            .collect(),
    };
    Tensor::new(shape.to_vec(), data)
}

impl Model {
    /// `batch` examples of seeded synthetic data for each model input, in input order
    /// ([`input_value`], which `tools/keras_random.py` reproduces in Python): floats uniform in
    /// [-1, 1), integer inputs (token ids) whole numbers 0 to 9. The same every run: what
    /// `wgcnn run --random-input` and the web page's seeded input give.
    pub fn synthetic_inputs(&self, batch: usize) -> Result<Vec<Tensor>> {
        self.inputs()
            .iter()
            .enumerate()
            .map(|(k, (_, spec))| {
                let shape = [&[batch][..], &spec.shape].concat();
                input_value(k, &shape, spec.is_integer().then_some(10))
            })
            .collect()
    }

    /// Gives every layer (nested models included) synthetic weights of the shapes Keras would
    /// store: for timing an architecture without its weights, and for tests that compare with
    /// Keras running the same weights (`tools/keras_random.py`).
    pub fn fill_synthetic_weights(&mut self) -> Result<()> {
        let all = self.synthetic("")?;
        self.set_weights_many(all)
    }

    fn synthetic(&self, prefix: &str) -> Result<Vec<(String, Vec<Tensor>)>> {
        let mut out = Vec::new();
        for (i, layer) in self.graph.layers.iter().enumerate() {
            let path = format!("{prefix}{}", layer.name);
            match &layer.op {
                LayerOp::Model(sub) => out.extend(sub.synthetic(&format!("{path}/"))?),
                LayerOp::Layer(_) => {
                    let tensors = self
                        .weight_specs(i)?
                        .iter()
                        .enumerate()
                        .map(|(k, s)| weight_value(s.name, &s.shape, &format!("{path}/{k}")))
                        .collect::<Result<Vec<_>>>()?;
                    if !tensors.is_empty() {
                        out.push((path, tensors));
                    }
                }
                LayerOp::Input(_) | LayerOp::Opaque(_) => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_tools_keras_random_py() {
        // Printed by tools/keras_random.py for the same keys.
        assert_eq!(fnv1a64("conv2d/0"), 11_514_955_777_166_328_542);
        assert_eq!(
            stream("conv2d/0", 3).collect::<Vec<_>>(),
            [
                1_079_417_112_404_920_201,
                10_536_890_161_372_483_237,
                15_811_910_516_413_590_614
            ]
        );
        let k = weight_value("kernel", &[3, 3, 3, 4], "conv2d/0").unwrap();
        assert_eq!(&k.data()[..3], &[-0.441_484_7, 0.071_205_914, 0.357_165_34]);
        let x = input_value(1, &[4], Some(100)).unwrap();
        assert_eq!(x.data(), &[22.0, 41.0, 45.0, 58.0]);
    }
}
