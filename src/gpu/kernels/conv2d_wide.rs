//! Implicit-GEMM Conv2D, [`ROWS`] positions × [`FILTERS`] filters per invocation
//! (`conv2d_wide.wgsl`), in four entry points: vec4 or scalar input loads, vec4 or scalar
//! output stores. Recorded by [`super::conv2d::emit_conv2d`].

use super::super::kernel::{Coverage, KernelDef};
use super::window::conv2d_def;

/// Output positions per invocation (the shader's `RM`).
pub(crate) const ROWS: usize = 8;
/// Filters per invocation (the shader's `4 · FN4`).
pub(crate) const FILTERS: usize = 16;

const SOURCE: &str = wgsl!("common.wgsl", "window.wgsl", "activation.wgsl", "conv2d_wide.wgsl");
const STRUCTURE: &[(&str, usize)] = &[("RM", ROWS), ("FN4", FILTERS / 4)];
const COVERAGE: Coverage = Coverage::Block {
    rows: ROWS,
    filters: FILTERS,
};

pub(super) const WIDE: KernelDef = conv2d_def("conv2d_wide", SOURCE, "main", STRUCTURE, COVERAGE);
pub(super) const WIDE_IN1: KernelDef =
     conv2d_def("conv2d_wide_in1", SOURCE, "main_in1", STRUCTURE, COVERAGE);
pub(super) const WIDE_OUT1: KernelDef =
     conv2d_def("conv2d_wide_out1", SOURCE, "main_out1", STRUCTURE, COVERAGE);
pub(super) const WIDE_IN1_OUT1: KernelDef = conv2d_def(
    "conv2d_wide_in1_out1",
    SOURCE,
    "main_in1_out1",
    STRUCTURE,
    COVERAGE,
);
