//! `model.summary()` exactly as real Keras 3 prints it, for the seed models and more
//! (tests/fixtures/models, made by tools/gen_keras_models.py).

use std::path::{Path, PathBuf};

use wgcnn::model::Model;
use wgcnn::Error;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/models")
        .join(name)
}

fn keras_summary(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("{name}.summary.txt"))).unwrap()
}

#[test]
fn summaries_match_keras_character_for_character() {
    for name in [
        "cifar10",
        "vision_model",
        "frozen",
        "every_layer",
        "functional_chain",
        "seed000_conv_valid",
        "seed000_conv_same",
        "seed003_conv_chain",
        "seed003_pool_chain",
        "seed001_pool",
        "seed004_no_bias",
    ] {
        let model =
            Model::load(fixture(&format!("{name}.json"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.summary().table(), keras_summary(name), "{name}");
    }
}

#[test]
fn keras_files_give_the_same_summary_as_their_json() {
    for name in ["every_layer", "functional_chain"] {
        let model = Model::load(fixture(&format!("{name}.keras"))).unwrap();
        assert!(model.has_weights(), "{name}");
        assert_eq!(model.summary().table(), keras_summary(name), "{name}");
    }
}

#[test]
fn seed_totals() {
    // The totals the seed documents print (seed 001: CIFAR-10; seed 003: the vision model).
    let cifar = Model::load(fixture("cifar10.json")).unwrap().summary();
    assert_eq!(
        (
            cifar.total_params,
            cifar.trainable_params,
            cifar.non_trainable_params
        ),
        (1_250_858, 1_250_858, 0)
    );
    let vision = Model::load(fixture("vision_model.json")).unwrap().summary();
    assert_eq!(vision.total_params, 1_735_488);
    assert_eq!(vision.rows.last().unwrap().output_shape, vec![160_000]);
}

#[test]
fn json_summary() {
    let summary = Model::load(fixture("seed003_conv_chain.json"))
        .unwrap()
        .summary();
    let v: serde_json::Value = serde_json::from_str(&summary.to_json()).unwrap();
    assert_eq!(v["total_params"], 20330);
    assert_eq!(v["trainable_params"], 20330);
    assert_eq!(v["non_trainable_params"], 0);
    assert_eq!(v["layers"][0]["name"], "Conv_Layer_1");
    assert_eq!(v["layers"][0]["class_name"], "Conv2D");
    assert_eq!(
        v["layers"][0]["output_shape"],
        serde_json::json!([null, 49, 94, 55])
    );
    assert_eq!(v["layers"][1]["params"], 19285);
}

#[test]
fn explain_fills_in_the_formulas() {
    let text = Model::load(fixture("seed003_conv_chain.json"))
        .unwrap()
        .summary()
        .explained();
    for line in [
        "height: out = ceil((100 − 3 + 1) / 2) = 49  (valid)",
        "width: out = ceil((95 − 2 + 1) / 1) = 94  (valid)",
        "params = 55 × (3 × 2 × 3 + 1) = 1045",
        "height: out = ceil(49 / 3) = 17  (same: pad 2 before, 2 after)",
        "params = 35 × (5 × 2 × 55 + 1) = 19285",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn unsupported_graphs_and_layers_are_named() {
    let json = std::fs::read_to_string(fixture("seed000_conv_valid.json")).unwrap();
    let err = Model::from_json(&json.replace("\"relu\"", "\"sparsemax\"")).unwrap_err();
    assert!(
        err.to_string()
            .contains("activation 'sparsemax' is not supported"),
        "{err}"
    );
    let err =
        Model::from_json(&json.replace("\"channels_last\"", "\"channels_first\"")).unwrap_err();
    assert!(err.to_string().contains("channels_first"), "{err}");
    // Conv3D is described (tests/any_layer.rs); a 2D kernel size is not a Conv3D's.
    let err = Model::from_json(&json.replace("\"Conv2D\"", "\"Conv3D\"")).unwrap_err();
    assert!(
        err.to_string()
            .contains("'kernel_size' must be N or a list of 3 integers"),
        "{err}"
    );
    // Grouped convolution needs channels divisible by the groups (the input has 1 channel).
    let err = Model::from_json(&json.replace("\"groups\": 1", "\"groups\": 2")).unwrap_err();
    assert!(err.to_string().contains("groups"), "{err}");
    let err = Model::from_json(&json.replace(
        "\"use_bias\": true",
        "\"use_bias\": true, \"new_option\": 3",
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("unsupported option 'new_option'"),
        "{err}"
    );
    // A config Keras itself would refuse: the kernel is larger than the input with 'valid'.
    let err =
        Model::from_json(&json.replace("\"kernel_size\": [2, 2]", "\"kernel_size\": [300, 2]"))
            .unwrap_err();
    assert!(err.to_string().contains("output would be empty"), "{err}");
    assert!(Model::from_json("{not json").is_err());
}

#[test]
fn damaged_archives_are_named_errors() {
    let err = Model::load(fixture("broken_missing_weight.keras")).unwrap_err();
    assert!(matches!(err.root(), Error::ModelWeights { .. }), "{err}");
    assert!(err.to_string().contains("layers/dense/vars/1"), "{err}");

    let err = Model::load(fixture("broken_wrong_shape.keras")).unwrap_err();
    assert!(
        err.to_string()
            .contains("has shape [2, 2, 2, 3], expected [3, 3, 2, 3]"),
        "{err}"
    );

    let bytes = std::fs::read(fixture("functional_chain.keras")).unwrap();
    let err = Model::from_keras_bytes("cut.keras", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("cut.keras"), "{err}");
    let err = Model::from_keras_bytes("not-a-zip.keras", b"PK but not really").unwrap_err();
    assert!(matches!(err.root(), Error::ModelConfig { .. }), "{err}");
}

#[test]
fn other_terminal_widths_match_keras() {
    // Keras uses min(88, columns − 4): 88 in a 120-column terminal, 46 in a 50-column one.
    let summary = Model::load(fixture("frozen.json")).unwrap().summary();
    let keras = |f: &str| std::fs::read_to_string(fixture(f)).unwrap();
    assert_eq!(
        summary.table_with_line_length(88),
        keras("frozen.summary120.txt")
    );
    assert_eq!(
        summary.table_with_line_length(46),
        keras("frozen.summary50.txt")
    );
}

#[test]
fn keras_width_rule_in_wider_terminals() {
    // 120 and 200 columns: a Sequential and a sequential-like Functional are drawn
    // min(88, columns − 4) wide, a two-input Functional min(108, columns − 4); 80: both 76.
    for name in ["cifar10", "functional_chain", "two_heads"] {
        let summary = Model::load(fixture(&format!("{name}.json")))
            .unwrap()
            .summary();
        for columns in [80, 120, 200] {
            let file = match columns {
                80 => format!("{name}.summary.txt"),
                c => format!("{name}.summary{c}.txt"),
            };
            let keras = std::fs::read_to_string(fixture(&file)).unwrap();
            let width = summary.line_length_for(columns);
            assert_eq!(summary.table_with_line_length(width), keras, "{file}");
        }
    }
}
