//! Layers and models called more than once, against real Keras: `tests/fixtures/reuse.zip`,
//! made by `tools/gen_keras_reuse.py`, holds nested Functional and Sequential models and shared
//! layers called 1–3 times in every order, feeding Subtract and Concatenate on either side,
//! nested two deep, with two inputs or two outputs, called outside the model first, and as
//! model outputs; 40 random graphs of the same ingredients; the enumerated cases again as real
//! Keras 2 (tf_keras) configs, whose node numbering differs; and a few of them saved as
//! `.keras` and `.h5` files. Every case must print Keras's summary and compute Keras's outputs
//! on the reference, the fast CPU backend and the GPU.

mod common;

use common::keras_cases::{assert_matches, cases, load, member, Case};
use wgcnn::model::{Backend, Model};
use wgcnn::Tensor;

const ZIP: &str = "reuse.zip";

fn check(model: &Model, case: &Case, what: &str) {
    let inputs: Vec<&Tensor> = case.inputs.iter().collect();
    for backend in [Backend::Reference, Backend::Cpu] {
        let ys = model
            .run_many(backend, &inputs)
            .unwrap_or_else(|e| panic!("{} ({what}) on {backend}: {e}", case.name));
        assert_eq!(ys.len(), case.outputs.len(), "{}: outputs", case.name);
        for (k, (y, want)) in ys.iter().zip(&case.outputs).enumerate() {
            let context = format!("{} ({what}) on {backend}, output {k}", case.name);
            assert_matches(y, want, case.tolerance, &context);
        }
    }
}

#[test]
fn reused_layers_and_models_match_keras_on_the_reference_and_the_cpu() {
    let all = cases(ZIP);
    for case in &all {
        check(&load(case), case, "config");
    }
    let tf_keras = all
        .iter()
        .filter(|c| c.name.starts_with("tf_keras_"))
        .count();
    let random = all.iter().filter(|c| c.name.starts_with("random_")).count();
    assert!(all.len() >= 100 && random >= 40, "{} cases", all.len());
    assert!(tf_keras >= 40, "{tf_keras} tf_keras cases");
}

#[test]
fn reused_layers_and_models_match_keras_on_the_gpu() {
    let gpu = common::gpu();
    for case in cases(ZIP) {
        let model = load(&case);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        let ys = model
            .compile(gpu, 2)
            .and_then(|mut c| c.run_many(&inputs))
            .unwrap_or_else(|e| panic!("{} on the GPU: {e}", case.name));
        for (k, (y, want)) in ys.iter().zip(&case.outputs).enumerate() {
            let context = format!("{} on the GPU, output {k}", case.name);
            assert_matches(y, want, case.tolerance, &context);
        }
    }
}

/// The saved files carry the weights Keras ran with (the scheme's), so the loaders' weight
/// reading of nested models called several times is checked too.
#[test]
fn saved_keras_and_h5_files_of_reused_models_match_keras() {
    let dir = std::env::temp_dir().join(format!("wgcnn-reuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut loaded = 0;
    for case in cases(ZIP) {
        for suffix in [".keras", ".h5"] {
            let file = format!("{}{suffix}", case.name);
            let Some(bytes) = member(ZIP, &file) else {
                continue;
            };
            let path = dir.join(&file);
            std::fs::write(&path, bytes).unwrap();
            let model = Model::load(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
            if let Some(summary) = &case.summary {
                assert_eq!(&model.summary().table(), summary, "{file}: summary");
            }
            check(&model, &case, &file);
            loaded += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(loaded >= 9, "{loaded} saved files");
}
