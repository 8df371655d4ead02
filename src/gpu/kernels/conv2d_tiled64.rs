//! Implicit-GEMM Conv2D with [`TILE`] × [`TILE`] output tiles per workgroup, 8 × 8 outputs per
//! invocation and the next reduction slice loaded while the current one is multiplied
//! (`conv2d_tiled64.wgsl`): the tile shape fast GPU GEMMs use. Recorded by
//! [`super::conv2d::emit_conv2d`].

use super::super::kernel::{Coverage, KernelDef, WORKGROUP_SIZE};
use super::window::conv2d_def;

/// Output positions and filters per workgroup tile (the shader's `TM`, and `4 · TN4`).
pub(crate) const TILE: usize = 64;

pub(super) const TILED64: KernelDef = conv2d_def(
    "conv2d_tiled64",
    wgsl!("common.wgsl", "window.wgsl", "activation.wgsl", "residual4.wgsl", "conv2d_tiled64.wgsl"),
    "main",
    // The tile shape is made for one workgroup size.
    &[("TM", TILE), ("TN4", TILE / 4), ("WG", WORKGROUP_SIZE as usize)],
    Coverage::Tile(TILE),
);
