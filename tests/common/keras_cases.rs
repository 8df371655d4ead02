//! Fixture cases made by real Keras (`tools/gen_keras_layers.py`,
//! `tools/gen_keras_applications.py`): a model's config, Keras's summary and outputs; weights
//! and inputs come from `keras_random`.

use std::io::Read;

use base64::Engine;

use super::keras_random::{fill_weights, input_value};
use wgcnn::model::Model;
use wgcnn::Tensor;

pub struct Case {
    pub name: String,
    pub model: String,
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
    /// Keras 3's summary; `None` for a model Keras 3 prints none of (a tf_keras config).
    pub summary: Option<String>,
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

/// Reads every case (`.json` member) of a fixture zip.
pub fn cases(zip: &str) -> Vec<Case> {
    let path = format!("{}/tests/fixtures/{zip}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if !entry.name().unwrap().ends_with(".json") {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let inputs = v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(k, spec)| {
                // Inputs with given values (non-finite cases) carry them; the others come
                // from the keras_random scheme.
                if spec.get("data").is_some() {
                    return decode(spec);
                }
                let shape: Vec<usize> = serde_json::from_value(spec["shape"].clone()).unwrap();
                input_value(k, &shape, spec["int_range"].as_u64())
            })
            .collect();
        let p = &v["params"];
        out.push(Case {
            name: v["name"].as_str().unwrap().to_string(),
            // Keras's own text where its config holds bare NaN or Infinity tokens.
            model: v["model_text"]
                .as_str()
                .map_or_else(|| v["model"].to_string(), str::to_string),
            inputs,
            outputs: v["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(decode)
                .collect(),
            summary: v["summary"].as_str().map(str::to_string),
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
    let mut model = Model::from_json(&case.model).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let summary = model.summary();
    if let Some(keras) = &case.summary {
        assert_eq!(&summary.table(), keras, "{}: summary", case.name);
    }
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

/// The bytes of member `name` of a fixture zip (a saved model beside its case), if it has one.
pub fn member(zip: &str, name: &str) -> Option<Vec<u8>> {
    let path = format!("{}/tests/fixtures/{zip}", env!("CARGO_MANIFEST_DIR"));
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut entry = archive.by_name(name).ok()?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    Some(bytes)
}

/// Decodes a base64 little-endian float32 tensor (`{"shape": .., "data": ..}`).
pub fn tensor(v: &serde_json::Value) -> Tensor {
    decode(v)
}
