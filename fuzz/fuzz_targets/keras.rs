//! The whole `.keras` loader: zip, config, HDF5 weights; then a forward pass on the CPU of
//! whatever loads, when it is small.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wgcnn::fuzzing::keras(data);
});
