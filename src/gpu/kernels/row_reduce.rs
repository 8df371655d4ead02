//! The host side of `row_reduce.wgsl`: when a row gets a workgroup, and the grid of one
//! workgroup per row.

use super::super::kernel::WORKGROUP_SIZE;
use super::super::Gpu;
use super::window::grid;
use crate::error::Result;

/// Lanes per row in the `rows` entry points (`ROW_LANES` in `row_reduce.wgsl`; the contract
/// test checks each kernel's copy).
pub(super) const ROW_LANES: usize = 64;

// `Rows::grid` sizes its grids with `grid`, which counts WORKGROUP_SIZE invocations per workgroup.
const _: () = assert!(ROW_LANES == WORKGROUP_SIZE as usize);

/// Rows at least this long may get a workgroup each (softmax over a classifier's classes,
/// LayerNormalization over a transformer's features): a lane then has two values or more.
pub(super) const ROW_WORKGROUP_FROM: usize = 2 * ROW_LANES;

/// How a kernel that reduces rows (softmax, LayerNormalization) covers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rows {
    /// One invocation walks each row (the kernels' `main`).
    PerInvocation,
    /// A workgroup of [`ROW_LANES`] reduces each row together (their `rows`).
    PerWorkgroup,
}

impl Rows {
    /// The layout for rows of `cols` values on `gpu`. A GPU gets a workgroup per long row: one
    /// invocation walking a row two or three times leaves it idle when the rows are fewer than
    /// its thousands of lanes. A CPU adapter (lavapipe, llvmpipe, SwiftShader, WARP) keeps one
    /// invocation per row: its few cores are filled by a few dozen workgroups, and a workgroup's
    /// barriers cost it more than they save (LayerNormalization over 8 × 197 rows of 768: 5.6
    /// ms per invocation, 13–15 ms per workgroup, on lavapipe).
    pub(super) fn for_rows(gpu: &Gpu, cols: usize) -> Self {
        if cols >= ROW_WORKGROUP_FROM && gpu.adapter_info().device_type != wgpu::DeviceType::Cpu {
            Rows::PerWorkgroup
        } else {
            Rows::PerInvocation
        }
    }

    /// The dispatch grid for `rows` rows.
    pub(super) fn grid(self, op: &'static str, rows: usize, per_dim: u32) -> Result<[u32; 2]> {
        match self {
            Rows::PerInvocation => grid(op, rows, per_dim),
            Rows::PerWorkgroup => grid(op, rows.saturating_mul(ROW_LANES), per_dim),
        }
    }
}
