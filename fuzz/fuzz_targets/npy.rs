//! The `.npy` reader on arbitrary bytes: any result but a panic, an abort or a hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wgcnn::fuzzing::npy(data);
});
