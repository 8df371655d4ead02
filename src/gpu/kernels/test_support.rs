//! What the kernels' GPU unit tests (`zero_padded.rs`, `residual.rs`, `long_rows.rs`) share: a device with
//! nothing cached on disk, and small-integer data.

use crate::gpu::{Gpu, GpuOptions};
use crate::tensor::Tensor;

/// A device without autotuning or caches: no adapter fails the test.
pub(super) fn gpu() -> Gpu {
    Gpu::with_options(GpuOptions {
        autotune: false,
        autotune_cache: None,
        pipeline_cache_dir: None,
        ..GpuOptions::default()
    })
    .unwrap_or_else(|e| panic!("this test needs a GPU adapter (e.g. Mesa lavapipe): {e}"))
}

/// Integers in −4..=4 varying along the tensor (`salt` shifts them): every partial sum of a
/// small convolution is exact in f32, so results must match bit for bit.
pub(super) fn data(shape: &[usize], salt: usize) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |i| ((i * 5 + salt * 11) % 9) as f32 - 4.0)
        .unwrap_or_else(|e| panic!("test data of shape {shape:?}: {e}"))
}
