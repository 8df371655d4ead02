//! The synthetic weights and inputs Keras ran with in the fixtures: `tools/keras_random.py`'s
//! scheme, which the library implements as `wgcnn::model::synthetic`.

use wgcnn::{Model, Tensor};

/// Model input `index` of `shape` (batch included).
pub fn input_value(index: usize, shape: &[usize], int_range: Option<u64>) -> Tensor {
    wgcnn::model::synthetic::input_value(index, shape, int_range).unwrap()
}

/// Sets every weight of `model` from the scheme.
pub fn fill_weights(model: &mut Model) {
    model.fill_synthetic_weights().unwrap();
}
