//! The deterministic weights and inputs of `tools/keras_random.py`, computed identically here:
//! fixtures of large models commit only the architecture and Keras's output, and the tests
//! regenerate the weights and inputs Keras ran with. Every value is exact in f32 on both sides.

use wgcnn::{Model, Tensor};

pub fn fnv1a64(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `n` splitmix64 outputs for `key`.
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

fn fan_in_shift(name: &str, shape: &[usize]) -> i32 {
    let fan_in: usize = if name == "depthwise_kernel" && shape.len() == 4 {
        shape[0] * shape[1]
    } else {
        shape[..shape.len() - 1].iter().product()
    };
    let bits = usize::BITS - (fan_in / 6).leading_zeros();
    (bits / 2) as i32
}

/// The values of one Keras weight (`name`: Keras's variable name, `key`: `layer/var index`).
pub fn weight_value(name: &str, shape: &[usize], key: &str) -> Tensor {
    let n: usize = shape.iter().product();
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
    Tensor::new(shape.to_vec(), values.collect()).unwrap()
}

/// Model input `index` of `shape` (batch included): uniform in [-1, 1), or integers in
/// `[0, int_range)`.
pub fn input_value(index: usize, shape: &[usize], int_range: Option<u64>) -> Tensor {
    let n: usize = shape.iter().product();
    let key = format!("input/{index}");
    let data: Vec<f32> = match int_range {
        None => signed(&key, n).map(|v| v as f32).collect(),
        Some(r) => stream(&key, n).map(|x| ((x >> 40) % r) as f32).collect(),
    };
    Tensor::new(shape.to_vec(), data).unwrap()
}

/// Sets every weight of `model` (nested models included) from the scheme.
pub fn fill_weights(model: &mut Model) {
    let assignments = collect(model, "");
    for (path, tensors) in assignments {
        model
            .set_weights(&path, tensors)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

fn collect(model: &Model, prefix: &str) -> Vec<(String, Vec<Tensor>)> {
    let mut out = Vec::new();
    for (i, layer) in model.layers().iter().enumerate() {
        let path = format!("{prefix}{}", layer.name);
        if let Some(sub) = layer.submodel() {
            out.extend(collect(sub, &format!("{path}/")));
            continue;
        }
        let specs = model.weight_specs(i).unwrap();
        let tensors: Vec<Tensor> = specs
            .iter()
            .enumerate()
            .map(|(k, s)| weight_value(s.name, &s.shape, &format!("{path}/{k}")))
            .collect();
        if !tensors.is_empty() {
            out.push((path, tensors));
        }
    }
    out
}
