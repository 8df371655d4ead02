//! Implicit-GEMM Conv2D, [`ROWS`] output positions × 4 filters per invocation, vec4 kernel loads
//! (`conv2d_blocked.wgsl`); recorded by [`super::conv2d::emit_conv2d`].

use super::super::kernel::{Coverage, KernelDef};
use super::window::conv2d_def;

/// Output positions per invocation (the shader's `RM`).
pub(crate) const ROWS: usize = 4;

pub(super) const BLOCKED: KernelDef = conv2d_def(
    "conv2d_blocked",
    wgsl!("common.wgsl", "window.wgsl", "activation.wgsl", "residual4.wgsl", "conv2d_blocked.wgsl"),
    "main",
    &[("RM", ROWS)],
    // Four filters (one vec4) per invocation.
    Coverage::Block {
        rows: ROWS,
        filters: 4,
    },
);
