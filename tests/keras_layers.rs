//! Every layer wgcnn reads, against real Keras: `tests/fixtures/layers.zip`, made by
//! `tools/gen_keras_layers.py` with Keras 3 (jax), holds for each case the model's config,
//! Keras's summary and Keras's outputs; weights and inputs are regenerated here from
//! `tools/keras_random.py`'s scheme. Each case must print Keras's summary and match Keras on
//! the reference, the fast CPU backend and the GPU.

mod common;

use std::io::Read;

use base64::Engine;
use common::keras_random::{fill_weights, input_value};
use wgcnn::model::{Backend, Model};
use wgcnn::Tensor;

/// Cases Keras itself computes inconsistently with its own declared shapes, which wgcnn refuses
/// with a named error instead of guessing.
const REFUSED: &[(&str, &str)] = &[
    // RandomCrop smaller than its input: Keras declares the crop, returns the input.
    ("random_crop_smaller", "RandomCrop"),
    // glu halves the last axis while the layer declares it unchanged; sparsemax is not
    // element-wise and wgcnn has no kernel for it.
    ("activation_glu", "activation 'glu' is not supported"),
    ("activation_sparsemax", "activation 'sparsemax' is not supported"),
];

pub struct Case {
    pub name: String,
    pub model: String,
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
    pub summary: String,
    pub params: [usize; 3],
    pub tolerance: f32,
}

fn decode(v: &serde_json::Value) -> Tensor {
    let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["data"].as_str().unwrap())
        .unwrap();
    let data = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Tensor::new(shape, data).unwrap()
}

/// Reads every case of a fixture zip.
pub fn cases(zip: &str) -> Vec<Case> {
    let path = format!("{}/tests/fixtures/{zip}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let inputs = v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(k, spec)| {
                let shape: Vec<usize> = serde_json::from_value(spec["shape"].clone()).unwrap();
                input_value(k, &shape, spec["int_range"].as_u64())
            })
            .collect();
        let p = &v["params"];
        out.push(Case {
            name: v["name"].as_str().unwrap().to_string(),
            model: v["model"].to_string(),
            inputs,
            outputs: v["outputs"].as_array().unwrap().iter().map(decode).collect(),
            summary: v["summary"].as_str().unwrap().to_string(),
            params: [
                p["total"].as_u64().unwrap() as usize,
                p["trainable"].as_u64().unwrap() as usize,
                p["non_trainable"].as_u64().unwrap() as usize,
            ],
            tolerance: v["tolerance"].as_f64().unwrap_or(1e-5) as f32,
        });
    }
    out
}

/// `|a − k| ≤ tolerance · max|k|` everywhere (equal infinities and NaN against NaN agree).
pub fn assert_matches(actual: &Tensor, keras: &Tensor, tolerance: f32, context: &str) {
    assert_eq!(actual.shape(), keras.shape(), "{context}: shape");
    let scale = keras
        .data()
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    for (i, (a, k)) in actual.data().iter().zip(keras.data()).enumerate() {
        if a == k || (a.is_nan() && k.is_nan()) {
            continue;
        }
        assert!(
            (a - k).abs() <= tolerance * scale,
            "{context}: element {i} is {a}, Keras {k} (tolerance {tolerance} × {scale})"
        );
    }
}

/// Loads a case's model with its scheme weights, checking its summary against Keras's.
pub fn load(case: &Case) -> Model {
    let mut model =
        Model::from_json(&case.model).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let summary = model.summary();
    assert_eq!(summary.table(), case.summary, "{}: summary", case.name);
    assert_eq!(
        [
            summary.total_params,
            summary.trainable_params,
            summary.non_trainable_params
        ],
        case.params,
        "{}: params",
        case.name
    );
    fill_weights(&mut model);
    model
}

#[test]
fn the_scheme_matches_tools_keras_random_py() {
    // Printed by tools/keras_random.py for the same keys.
    assert_eq!(
        common::keras_random::fnv1a64("conv2d/0"),
        11_514_955_777_166_328_542
    );
    assert_eq!(
        common::keras_random::stream("conv2d/0", 3).collect::<Vec<_>>(),
        [
            1_079_417_112_404_920_201,
            10_536_890_161_372_483_237,
            15_811_910_516_413_590_614
        ]
    );
    let k = common::keras_random::weight_value("kernel", &[3, 3, 3, 4], "conv2d/0");
    assert_eq!(&k.data()[..3], &[-0.441_484_7, 0.071_205_914, 0.357_165_34]);
    assert_eq!(input_value(1, &[4], Some(100)).data(), &[22.0, 41.0, 45.0, 58.0]);
}

#[test]
fn refused_cases_are_named_errors() {
    let all = cases("layers.zip");
    for (name, needle) in REFUSED {
        let case = all.iter().find(|c| c.name == *name).unwrap();
        let err = Model::from_json(&case.model).unwrap_err();
        assert!(err.to_string().contains(needle), "{name}: {err}");
    }
}

#[test]
fn every_layer_matches_keras_on_the_reference_and_the_cpu() {
    let mut checked = 0;
    for case in cases("layers.zip") {
        if REFUSED.iter().any(|(n, _)| *n == case.name) {
            continue;
        }
        let model = load(&case);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        for backend in [Backend::Reference, Backend::Cpu] {
            let ys = model
                .run_many(backend, &inputs)
                .unwrap_or_else(|e| panic!("{} on {backend}: {e}", case.name));
            for (k, (y, want)) in ys.iter().zip(&case.outputs).enumerate() {
                assert_matches(
                    y,
                    want,
                    case.tolerance,
                    &format!("{} on {backend}, output {k}", case.name),
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 200, "only {checked} cases");
}

#[test]
fn every_layer_matches_keras_on_the_gpu() {
    let gpu = common::gpu();
    for case in cases("layers.zip") {
        if REFUSED.iter().any(|(n, _)| *n == case.name) {
            continue;
        }
        let model = load(&case);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        let mut compiled = model
            .compile(gpu, 2)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let ys = compiled
            .run_many(&inputs)
            .unwrap_or_else(|e| panic!("{} on the GPU: {e}", case.name));
        for (k, (y, want)) in ys.iter().zip(&case.outputs).enumerate() {
            assert_matches(
                y,
                want,
                case.tolerance,
                &format!("{} on the GPU, output {k}", case.name),
            );
        }
    }
}
