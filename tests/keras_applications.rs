//! Real-world models against real Keras: keras.applications families with `weights=None` and
//! small inputs (ResNet, MobileNet V1–V3, EfficientNet, DenseNet, Xception, Inception, NASNet,
//! ConvNeXt, VGG), a U-Net, transfer-learning stacks with a nested base model, a multi-input
//! multi-output model with a shared layer, and seed 003's visual question answering model.
//! `tests/fixtures/applications.zip` (tools/gen_keras_applications.py) holds each model's
//! config, Keras's summary and Keras's output; the weights and inputs are regenerated from
//! `tools/keras_random.py`'s scheme, so none of the models' weights are committed.

mod common;

use common::keras_cases::{assert_matches, cases, load, Case};
use wgcnn::model::Backend;
use wgcnn::Tensor;

/// Models small enough for the f64 reference in a test run.
fn small(case: &Case) -> bool {
    case.name != "seed003_vqa"
}

fn check(case: &Case, backend: &str, ys: &[Tensor]) {
    assert_eq!(ys.len(), case.outputs.len(), "{}: outputs", case.name);
    for (k, (y, want)) in ys.iter().zip(&case.outputs).enumerate() {
        assert_matches(
            y,
            want,
            case.tolerance,
            &format!("{} on {backend}, output {k}", case.name),
        );
    }
}

#[test]
fn summaries_match_keras() {
    for case in cases("applications.zip") {
        load(&case);
    }
}

#[test]
fn applications_match_keras_on_the_cpu_backend() {
    for case in cases("applications.zip") {
        let model = load(&case);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        let ys = model
            .run_many(Backend::Cpu, &inputs)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        check(&case, "cpu", &ys);
    }
}

#[test]
fn applications_match_keras_on_the_reference() {
    for case in cases("applications.zip").into_iter().filter(small) {
        let model = load(&case);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        let ys = model
            .run_many(Backend::Reference, &inputs)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        check(&case, "reference", &ys);
    }
}

#[test]
fn applications_match_keras_on_the_gpu() {
    let gpu = common::gpu_untuned();
    for case in cases("applications.zip") {
        let model = load(&case);
        let inputs: Vec<&Tensor> = case.inputs.iter().collect();
        let mut compiled = model
            .compile(gpu, 2)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let ys = compiled
            .run_many(&inputs)
            .unwrap_or_else(|e| panic!("{} on the GPU: {e}", case.name));
        check(&case, "gpu", &ys);
    }
}
