//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the stable replay of their
//! corpus (`tests/fuzz_replay.rs`). Each takes arbitrary bytes; any error is a fine outcome,
//! a panic, an abort or a hang is a bug.

use crate::model::Model;

/// The `.npy` reader.
pub fn npy(data: &[u8]) {
    let _ = crate::npy::parse_npy(data, "fuzz.npy");
}

/// The Keras config parser, then everything `wgcnn summary` derives from an accepted config.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(model) = Model::from_json(text) {
        summarize(&model);
    }
}

/// The whole `.keras` loader: zip, config and HDF5 weights.
pub fn keras(data: &[u8]) {
    if let Ok(model) = Model::from_keras_bytes("fuzz.keras", data) {
        summarize(&model);
    }
}

fn summarize(model: &Model) {
    let summary = model.summary();
    let _ = summary.table();
    let _ = summary.explained();
    let _ = summary.to_json();
}
