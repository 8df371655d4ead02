//! Whole-model forward passes against real Keras outputs (tests/fixtures/models, made by
//! tools/gen_keras_models.py), on the CPU reference and on the GPU.

mod common;

use std::path::{Path, PathBuf};

use common::assert_close;
use wgcnn::model::Model;
use wgcnn::npy::read_npy;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models").join(name)
}

/// Keras computes in float32 with its own summation order; the reference accumulates in f64.
/// These models have reductions of at most a few hundred terms on values of order 1.
const KERAS_TOLERANCE: f32 = 2e-5;

#[test]
fn reference_matches_keras() {
    for name in ["every_layer", "functional_chain"] {
        let model = Model::load(fixture(&format!("{name}.keras"))).unwrap();
        let x = read_npy(fixture(&format!("{name}.input.npy"))).unwrap();
        let expected = read_npy(fixture(&format!("{name}.output.npy"))).unwrap();
        let y = model.run_reference(&x).unwrap();
        assert_close(&y, &expected, KERAS_TOLERANCE, name);
    }
}
