//! Every layer wgcnn reads, against real Keras: `tests/fixtures/layers.zip`, made by
//! `tools/gen_keras_layers.py` with Keras 3 (jax), holds for each case the model's config,
//! Keras's summary and Keras's outputs; weights and inputs are regenerated here from
//! `tools/keras_random.py`'s scheme. Each case must print Keras's summary and match Keras on
//! the reference, the fast CPU backend and the GPU.

mod common;

use common::keras_cases::{assert_matches, cases, load};
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
    (
        "activation_sparsemax",
        "activation 'sparsemax' is not supported",
    ),
];

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
