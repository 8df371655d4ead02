//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod keras_cases;
pub mod keras_random;

use std::sync::OnceLock;

use wgcnn::{Gpu, Tensor};

/// The one device the tests share. A missing adapter fails loudly: GPU tests never skip.
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::with_options(options()) {
        Ok(gpu) => {
            let info = gpu.adapter_info();
            eprintln!("GPU tests run on: {} ({:?})", info.name, info.backend);
            gpu
        }
        Err(e) => panic!(
            "GPU tests need an adapter and found none ({e}); install Mesa lavapipe \
             (apt-get install mesa-vulkan-drivers) or run with WGPU_BACKEND=gl on llvmpipe"
        ),
    })
}

/// A second shared device with autotuning off: for large models, where measuring every
/// kernel variant of every layer would dominate the test's time (the variants are tested
/// against each other elsewhere).
pub fn gpu_untuned() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| {
        Gpu::with_options(wgcnn::GpuOptions {
            autotune: false,
            ..options()
        })
        .unwrap_or_else(|e| panic!("GPU tests need an adapter and found none ({e})"))
    })
}

/// Device options for tests: autotuning on, but remembered in memory only, and pipelines
/// compiled afresh, so that tests never write to the user's cache.
pub fn options() -> wgcnn::GpuOptions {
    wgcnn::GpuOptions {
        autotune_cache: None,
        pipeline_cache_dir: None,
        ..wgcnn::GpuOptions::default()
    }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An integer in `-range..=range`, as f32.
    pub fn int(&mut self, range: u64) -> f32 {
        (self.next_u64() % (2 * range + 1)) as f32 - range as f32
    }

    /// Uniform in `[-1, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Integer-valued tensor: every partial sum is exact in f32, so GPU must equal CPU bit for bit.
pub fn int_tensor(rng: &mut Rng, shape: &[usize], range: u64) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |_| rng.int(range)).unwrap()
}

/// Uniform random tensor in `[-1, 1)`.
pub fn uniform_tensor(rng: &mut Rng, shape: &[usize]) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |_| rng.uniform()).unwrap()
}

/// Asserts same shape and `|a − b| ≤ tol·(1 + |b|)` everywhere (equal infinities and NaN
/// against NaN agree), naming the first bad element.
pub fn assert_close(actual: &Tensor, expected: &Tensor, tol: f32, context: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{context}: shapes differ");
    for (i, (a, b)) in actual.data().iter().zip(expected.data()).enumerate() {
        // Equal infinities and NaN against NaN agree; anything else non-finite does not.
        if a == b || (a.is_nan() && b.is_nan()) {
            continue;
        }
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{context}: element {i} is {a}, expected {b} (tolerance {tol})"
        );
    }
}

/// The tolerance for a float32 reduction of length `k` against an f64-accumulated reference:
/// rounding error grows with the number of terms.
pub fn reduction_tolerance(k: usize) -> f32 {
    2e-6 * (k as f32 + 1.0)
}

/// Random weights of the shapes Keras would store for every layer of `model` (nested models
/// included), uniform in [-1, 1); BatchNormalization's moving variances in [0.5, 1.5).
pub fn randomize(model: &mut wgcnn::Model, seed: u64) {
    let mut rng = Rng::new(seed);
    randomize_with(model, "", &mut rng);
}

fn randomize_with(model: &mut wgcnn::Model, prefix: &str, rng: &mut Rng) {
    for i in 0..model.layers().len() {
        let name = model.layers()[i].name.clone();
        if model.layers()[i].submodel().is_some() {
            // Nested layers are set through the outer model as `outer/inner`.
            let inner: Vec<(String, Vec<wgcnn::layers::WeightSpec>)> = {
                let sub = model.layers()[i].submodel().unwrap();
                (0..sub.layers().len())
                    .map(|j| (sub.layers()[j].name.clone(), sub.weight_specs(j).unwrap()))
                    .collect()
            };
            for (inner_name, specs) in inner {
                let tensors = random_weights(&specs, rng);
                if !tensors.is_empty() {
                    model
                        .set_weights(&format!("{name}/{inner_name}"), tensors)
                        .unwrap();
                }
            }
            continue;
        }
        let specs = model.weight_specs(i).unwrap();
        let tensors = random_weights(&specs, rng);
        if !tensors.is_empty() {
            model
                .set_weights(&name, tensors)
                .unwrap_or_else(|e| panic!("{prefix}{name}: {e}"));
        }
    }
}

fn random_weights(specs: &[wgcnn::layers::WeightSpec], rng: &mut Rng) -> Vec<Tensor> {
    specs
        .iter()
        .map(|spec| {
            let variance = spec.name.contains("variance");
            Tensor::from_fn(spec.shape.clone(), |_| {
                let v = rng.uniform();
                if variance {
                    v.abs() + 0.5
                } else {
                    v
                }
            })
            .unwrap()
        })
        .collect()
}
