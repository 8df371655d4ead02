//! Non-finite inputs: NaN, ±inf, −0.0 and float32's extremes through every activation, pooling,
//! merge, normalisation and copy, against the values real Keras computed
//! (`tests/fixtures/nonfinite.zip`, made by `tools/gen_keras_nonfinite.py`), identically on the
//! reference, the fast CPU backend and the GPU.
//!
//! Element by element: NaN must meet NaN (any payload), an infinity the same infinity, an exact
//! zero a zero of the same sign, and finite values agree within the case's tolerance relative
//! to max(|Keras|, 1). XLA flushes subnormals to zero and wgcnn does not, so a subnormal
//! against a zero passes on the tolerance.
//!
//! Some cases plant statistics in the layer under test (a NaN, infinite or negative variance):
//! their entry's `"weights"` replaces that layer's `keras_random` weights.

mod common;

use std::collections::HashMap;
use std::io::Read;

use common::keras_cases::{cases, load, tensor, Case};
use wgcnn::model::{Backend, Model};
use wgcnn::Tensor;

/// Layers wgcnn refuses, with the reason (each must be a clear error, checked below).
const UNSUPPORTED: &[&str] = &["activation_sparsemax", "activation_glu"];

/// Cases where Keras's jax backend computes something no other backend would and wgcnn
/// deliberately does not follow: bilinear resizing as a product with full weight matrices, so
/// one inf or NaN turns its whole plane to NaN (0·inf) instead of its 2×2 neighbourhood.
const NOT_FOLLOWED: &[&str] = &["upsampling_bilinear_2"];

fn mismatch(a: f32, k: f32, tolerance: f32) -> bool {
    if k.is_nan() || a.is_nan() {
        return !(k.is_nan() && a.is_nan());
    }
    if k.is_infinite() || a.is_infinite() {
        return a != k;
    }
    if a == 0.0 && k == 0.0 {
        return a.is_sign_negative() != k.is_sign_negative();
    }
    (a - k).abs() > tolerance * k.abs().max(1.0)
}

fn differences(case: &Case, backend: &str, ys: &[Tensor]) -> Vec<String> {
    let mut out = Vec::new();
    for (y, want) in ys.iter().zip(&case.outputs) {
        if y.shape() != want.shape() {
            out.push(format!(
                "{} on {backend}: shape {:?} vs Keras {:?}",
                case.name,
                y.shape(),
                want.shape()
            ));
            continue;
        }
        let bad: Vec<String> = y
            .data()
            .iter()
            .zip(want.data())
            .enumerate()
            .filter(|(_, (&a, &k))| mismatch(a, k, case.tolerance))
            .map(|(i, (a, k))| {
                // The input at the same index, where it is the same element (one per output).
                let x = case.inputs[0].data();
                let input = x
                    .get(i)
                    .filter(|_| x.len() == want.data().len())
                    .map_or(String::new(), |v| format!(" (input[{i}] = {v:e})"));
                format!("[{i}] {a:e} vs {k:e}{input}")
            })
            .collect();
        if !bad.is_empty() {
            out.push(format!(
                "{} on {backend}: {} of {} differ: {}",
                case.name,
                bad.len(),
                want.data().len(),
                bad.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    out
}

/// A case's planted weights: (layer name, all of that layer's weights) pairs.
type Planted = Vec<(String, Vec<Tensor>)>;

/// Each case's planted weights (`"weights": {layer: [{"shape", "data"}, ..]}`), by case name.
fn planted_weights() -> HashMap<String, Planted> {
    let path = format!(
        "{}/tests/fixtures/nonfinite.zip",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = HashMap::new();
    for i in 0..archive.len() {
        let mut text = String::new();
        archive
            .by_index(i)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(layers) = v.get("weights").and_then(|w| w.as_object()) {
            let layers = layers
                .iter()
                .map(|(name, ws)| {
                    (
                        name.clone(),
                        ws.as_array().unwrap().iter().map(tensor).collect(),
                    )
                })
                .collect();
            out.insert(v["name"].as_str().unwrap().to_string(), layers);
        }
    }
    out
}

/// The case's model with Keras's weights: the `keras_random` ones, then any planted ones.
fn load_planted(case: &Case, planted: &HashMap<String, Planted>) -> Model {
    let mut model = load(case);
    if let Some(layers) = planted.get(&case.name) {
        for (layer, tensors) in layers {
            model
                .set_weights(layer, tensors.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
    }
    model
}

#[test]
fn non_finite_values_follow_keras_on_every_backend() {
    let planted = planted_weights();
    assert!(
        planted.len() >= 3,
        "only {} cases plant weights",
        planted.len()
    );
    let gpu = common::gpu_untuned();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases("nonfinite.zip") {
        if UNSUPPORTED.contains(&case.name.as_str()) {
            let err = wgcnn::model::Model::from_json(&case.model).unwrap_err();
            assert!(
                err.to_string().contains("not supported"),
                "{}: {err}",
                case.name
            );
            continue;
        }
        if NOT_FOLLOWED.contains(&case.name.as_str()) {
            continue;
        }
        let model = load_planted(&case, &planted);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        for backend in [Backend::Reference, Backend::Cpu] {
            let ys = model
                .run_many(backend, &inputs)
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            failures.extend(differences(&case, &format!("{backend:?}"), &ys));
        }
        let ys = model
            .compile(gpu, 2)
            .and_then(|mut c| c.run_many(&inputs))
            .unwrap_or_else(|e| panic!("{} on the GPU: {e}", case.name));
        failures.extend(differences(&case, "gpu", &ys));
        checked += 1;
    }
    assert!(checked >= 74, "only {checked} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn an_identity_rescaling_still_adds_its_zero_offset_on_the_gpu() {
    // Keras computes x·1 + 0, which turns −0.0 into +0.0; an activation alone keeps −0.0.
    let model = wgcnn::model::Sequential::new([4])
        .layer(wgcnn::layers::Rescaling {
            scale: vec![1.0],
            offset: vec![0.0],
        })
        .build()
        .unwrap();
    let x = Tensor::new(vec![1, 4], vec![-0.0, 0.0, -1.5, f32::NAN]).unwrap();
    let want = model.run_cpu(&x).unwrap();
    assert!(want.data()[0].is_sign_positive());
    let got = model
        .compile(common::gpu_untuned(), 1)
        .and_then(|mut c| c.run(&x))
        .unwrap();
    for (a, k) in got.data().iter().zip(want.data()) {
        assert!(!mismatch(*a, *k, 0.0), "{a} vs {k}");
    }
}
