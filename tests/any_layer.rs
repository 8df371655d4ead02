//! `summary` of models wgcnn can describe but not run, against real Keras 3
//! (tests/fixtures/any_layer, made by tools/gen_keras_any_layer.py): the 1D and 3D layers by
//! their formulas, classes wgcnn does not know (a custom layer, MultiHeadAttention) from what the
//! file records. Running such a model fails with one error naming every such layer.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use wgcnn::model::{Backend, Model};
use wgcnn::{Error, Tensor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/any_layer")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

#[test]
fn summaries_match_keras_at_80_120_and_200_columns() {
    for (name, file) in [
        ("volume", "volume.json"),
        ("sequence", "sequence.json"),
        ("volume_two_inputs", "volume_two_inputs.json"),
        ("custom", "custom.keras"),
    ] {
        let summary = Model::load(fixture(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .summary();
        for columns in [80, 120, 200] {
            let keras = read(&format!("{name}.summary{columns}.txt"));
            let width = summary.line_length_for(columns);
            assert_eq!(
                summary.table_with_line_length(width),
                keras,
                "{name} at {columns} columns"
            );
        }
    }
}

#[test]
fn random_layer_configs_match_keras_shapes_and_params() {
    let cases: Vec<Value> = serde_json::from_str(&read("random.json")).unwrap();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let mut batch_shape = vec![Value::Null];
        batch_shape.extend(case["input_shape"].as_array().unwrap().iter().cloned());
        let architecture = json!({
            "class_name": "Sequential",
            "config": {"name": "case", "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": batch_shape}},
                case["layer"],
            ]},
        });
        let model = Model::from_json(&architecture.to_string())
            .unwrap_or_else(|e| panic!("case {i} {}: {e}", case["layer"]));
        let summary = model.summary();
        let want: Vec<usize> = serde_json::from_value(case["output_shape"].clone()).unwrap();
        assert_eq!(
            model.output_shape(),
            want.as_slice(),
            "case {i}: {}",
            case["layer"]
        );
        assert_eq!(
            summary.total_params as u64,
            case["params"].as_u64().unwrap(),
            "case {i}: {}",
            case["layer"]
        );
        assert_eq!(model.layers_that_cannot_run().len(), 1, "case {i}");
    }
}

#[test]
fn running_names_every_layer_that_cannot_run() {
    let mut volume = Model::load(fixture("volume.json")).unwrap();
    volume.fill_synthetic_weights().unwrap();
    let x = Tensor::from_fn(vec![1, 10, 12, 9, 3], |_| 0.0).unwrap();
    for backend in [Backend::Reference, Backend::Cpu] {
        let err = volume.run(backend, &x).unwrap_err();
        let Error::CannotRun { layers, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(layers.len(), 10, "{err}");
        let text = err.to_string();
        for label in [
            "conv3d (Conv3D)",
            "max_pooling3d (MaxPooling3D)",
            "cropping3d (Cropping3D)",
        ] {
            assert!(text.contains(label), "{text}");
        }
        assert!(!text.contains("dense"), "Dense runs: {text}");
        assert!(text.starts_with("model 'volume' cannot run"), "{text}");
    }

    let custom = Model::load(fixture("custom.keras")).unwrap();
    let err = custom
        .run(
            Backend::Reference,
            &Tensor::from_fn(vec![1, 6, 6, 4, 2], |_| 0.0).unwrap(),
        )
        .unwrap_err()
        .to_string();
    for label in [
        "conv3d_3 (Conv3D)",
        "channel_scale (ChannelScale) (a class wgcnn does not know)",
        "attention (MultiHeadAttention) (a class wgcnn does not know)",
    ] {
        assert!(err.contains(label), "{err}");
    }
}

#[test]
fn explain_tells_formulas_from_what_the_file_says() {
    let text = Model::load(fixture("custom.keras"))
        .unwrap()
        .summary()
        .explained();
    for line in [
        "conv3d_3 (Conv3D) -> (None, 6, 6, 4, 4), 220 params",
        "depth: out = ceil(6 / 1) = 6  (same: pad 1 before, 1 after)",
        "params = 4 × (3 × 3 × 3 × 2 + 1) = 220",
        "Conv3D: described only, wgcnn has no kernel to run it",
        "channel_scale (ChannelScale) -> (None, 6, 6, 4, 4), 4 params",
        "shape read from the file: no formula",
        "params = (4) = 4, read from the file's weights",
        "attention (MultiHeadAttention) -> (None, 36, 16), 552 params",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

/// The custom model's architecture alone: the unknown layers' shapes still come from the
/// file, their parameters are unknown (`?`).
#[test]
fn architecture_without_weights_marks_unknown_params() {
    let bytes = std::fs::read(fixture("custom.keras")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut config = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("config.json").unwrap(), &mut config).unwrap();
    let summary = Model::from_json(&config).unwrap().summary();
    let row = summary.rows.iter().find(|r| r.name == "attention").unwrap();
    assert!(!row.params_known);
    assert_eq!(row.output_shape, [36, 16]);
    let table = summary.table();
    assert!(table.contains(" ? │"), "{table}");
    assert!(
        summary
            .explained()
            .contains("params unknown: no formula, and no weights file was read"),
        "{}",
        summary.explained()
    );
}

#[test]
fn an_unknown_model_output_has_an_unknown_shape() {
    let architecture = json!({
        "class_name": "Functional",
        "config": {
            "name": "tail",
            "layers": [
                {"class_name": "InputLayer", "name": "x",
                 "config": {"batch_shape": [null, 4], "name": "x"}, "inbound_nodes": []},
                {"class_name": "Sparsemax", "module": "my_layers", "name": "head",
                 "config": {"name": "head"},
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                     "config": {"shape": [null, 4], "keras_history": ["x", 0, 0]}}],
                     "kwargs": {}}]},
            ],
            "input_layers": [["x", 0, 0]],
            "output_layers": [["head", 0, 0]],
        },
    });
    let summary = Model::from_json(&architecture.to_string())
        .unwrap()
        .summary();
    let text = summary.table();
    assert!(text.contains("head (Sparsemax)"), "{text}");
    assert!(text.contains("unknown"), "{text}");
    assert!(
        summary.explained().contains("shape unknown"),
        "{}",
        summary.explained()
    );
}

#[test]
fn an_unknown_layer_without_recorded_shapes_is_a_clear_error() {
    // Keras 2's list-format calls record no shapes: what an unknown layer passes on cannot be
    // known, and the error says so instead of guessing.
    let architecture = json!({
        "class_name": "Sequential",
        "config": {"name": "old", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4]}},
            {"class_name": "Sparsemax", "config": {"name": "head"}},
            {"class_name": "Dense", "config": {"name": "out", "units": 2}},
        ]},
    });
    let err = Model::from_json(&architecture.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("head (Sparsemax)"), "{err}");
    assert!(err.contains("records no input shape"), "{err}");
}

#[test]
fn a_hostile_output_index_of_an_unknown_layer_is_refused() {
    let reader = |index: u64| {
        json!({"class_name": "Dense", "name": "out", "config": {"name": "out", "units": 2},
               "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                   "config": {"shape": [null, 4], "keras_history": ["head", 0, index]}}],
                   "kwargs": {}}]})
    };
    let model = |index: u64| {
        json!({
            "class_name": "Functional",
            "config": {
                "name": "tail",
                "layers": [
                    {"class_name": "InputLayer", "name": "x",
                     "config": {"batch_shape": [null, 4], "name": "x"}, "inbound_nodes": []},
                    {"class_name": "Splitter", "name": "head", "config": {"name": "head"},
                     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                         "config": {"shape": [null, 4], "keras_history": ["x", 0, 0]}}],
                         "kwargs": {}}]},
                    reader(index),
                ],
                "input_layers": [["x", 0, 0]],
                "output_layers": [["out", 0, 0]],
            },
        })
        .to_string()
    };
    // Output 2 of an unknown layer, read by a Dense: three outputs, the third (4,) wide.
    let summary = Model::from_json(&model(2)).unwrap().summary();
    assert!(
        summary.table().contains("out (Dense)"),
        "{}",
        summary.table()
    );
    let err = Model::from_json(&model(1 << 40)).unwrap_err().to_string();
    assert!(
        err.contains("head (Splitter)") && err.contains("more than 4096 outputs"),
        "{err}"
    );
}
