//! Graph structure: bytes decoded into a Keras 3 Functional config (shared layers, nested
//! models, node and tensor indices, output lists, and deliberately wrong references), then the
//! summary and a forward pass on the reference and the fast CPU backend, which must agree.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wgcnn::fuzzing::graph(data);
});
