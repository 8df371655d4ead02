//! Legacy HDF5 model files (`model.save("m.h5")`): real Keras 2 files written by tf.keras
//! (`tf_keras` 2.21) and Keras 3's legacy writer, made by tools/gen_keras_legacy.py. Each must
//! load with its weights, print Keras 3's summary of it, and compute what the saving framework
//! computed, on every backend.

mod common;

use common::keras_cases::{assert_matches, tensor};
use wgcnn::model::{Backend, Model};
use wgcnn::Tensor;

const FILES: [&str; 4] = [
    "tf_keras_sequential",
    "tf_keras_functional",
    "keras3_sequential",
    "keras3_functional",
];

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/legacy/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn legacy_h5_files_load_and_match_keras() {
    let gpu = common::gpu();
    for name in FILES {
        let model =
            Model::load(fixture(&format!("{name}.h5"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            model.summary().table(),
            v["summary"].as_str().unwrap(),
            "{name}"
        );
        let inputs: Vec<Tensor> = v["inputs"].as_array().unwrap().iter().map(tensor).collect();
        let outputs: Vec<Tensor> = v["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(tensor)
            .collect();
        let tolerance = v["tolerance"].as_f64().unwrap() as f32;
        let refs: Vec<&Tensor> = inputs.iter().collect();
        for backend in [Backend::Reference, Backend::Cpu] {
            let ys = model.run_many(backend, &refs).unwrap();
            for (y, want) in ys.iter().zip(&outputs) {
                assert_matches(y, want, tolerance, &format!("{name} on {backend}"));
            }
        }
        let ys = model.compile(gpu, 2).unwrap().run_many(&refs).unwrap();
        for (y, want) in ys.iter().zip(&outputs) {
            assert_matches(y, want, tolerance, &format!("{name} on the GPU"));
        }
    }
}

#[test]
fn weights_only_and_damaged_h5_files_are_named_errors() {
    let bytes = std::fs::read(fixture("tf_keras_functional.h5")).unwrap();
    let dir = std::env::temp_dir().join(format!("wgcnn-legacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.h5");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let err = Model::load(&cut).unwrap_err();
    assert!(err.to_string().contains("cut.h5"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
