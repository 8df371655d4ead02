//! The Keras config parser (`model.to_json()` / `config.json`), then the summary and the shape
//! plan of whatever it accepts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wgcnn::fuzzing::config(data);
});
