//! The host side of `row_reduce.wgsl` and `row_reduce_subgroup.wgsl`: the ways a row can be
//! covered, which of them a device can run, which it takes untuned, and the grid of one
//! workgroup per row. The autotuner (`autotune/rows.rs`) times them where tuning is on.

use super::super::kernel::WORKGROUP_SIZE;
use super::super::Gpu;
use super::window::grid;
use crate::error::Result;

/// Lanes per row in the `rows` entry points (`ROW_LANES` in `row_reduce.wgsl`; the contract
/// test checks each kernel's copy).
pub(super) const ROW_LANES: usize = 64;

// `Rows::grid` sizes its grids with `grid`, which counts WORKGROUP_SIZE invocations per workgroup.
const _: () = assert!(ROW_LANES == WORKGROUP_SIZE as usize);

/// Rows at least this long get a workgroup each when untuned (softmax over a classifier's
/// classes, LayerNormalization over a transformer's features): a lane then has two values or
/// more.
pub(super) const ROW_WORKGROUP_FROM: usize = 2 * ROW_LANES;

/// The kernels that reduce rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOp {
    /// Softmax and log-softmax (`softmax.rs`).
    Softmax,
    /// LayerNormalization and RMS normalization (`layer_norm.rs`).
    LayerNorm,
}

/// How a kernel that reduces rows (softmax, LayerNormalization) covers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// One invocation walks each row (the kernels' `main`).
    PerInvocation,
    /// A workgroup of [`ROW_LANES`] reduces each row together, by a tree in workgroup memory
    /// (their `rows`).
    PerWorkgroup,
    /// [`Rows::PerWorkgroup`] reducing with subgroup operations (their `rows` on
    /// `row_reduce_subgroup.wgsl`): devices opened with wgpu's `SUBGROUP` feature only.
    Subgroups,
}

impl Rows {
    /// Every layout, in the order the autotuner lists them.
    pub(crate) const ALL: [Rows; 3] = [Rows::PerInvocation, Rows::PerWorkgroup, Rows::Subgroups];

    /// Whether `gpu` can run the layout.
    pub(crate) fn runs_on(self, gpu: &Gpu) -> bool {
        self != Rows::Subgroups || gpu.features().contains(wgpu::Features::SUBGROUP)
    }

    /// The layouts worth timing for rows of `cols` values on `gpu`, the untuned one first:
    /// rows shorter than a workgroup only ever get an invocation each.
    pub(crate) fn candidates(gpu: &Gpu, cols: usize) -> Vec<Rows> {
        let preferred = Self::untuned(gpu, cols);
        let mut candidates: Vec<Rows> = Self::ALL
            .into_iter()
            .filter(|l| l.runs_on(gpu) && (cols >= ROW_LANES || *l == Rows::PerInvocation))
            .collect();
        candidates.sort_by_key(|l| *l != preferred);
        candidates
    }

    /// The layout for rows of `cols` values on `gpu` when nothing is measured. A GPU gets a
    /// workgroup per long row (reduced with subgroup operations where it has them): one
    /// invocation walking a row two or three times leaves it idle when the rows are fewer than
    /// its thousands of lanes. A CPU adapter (lavapipe, llvmpipe, SwiftShader, WARP) keeps one
    /// invocation per row: its few cores are filled by a few dozen workgroups, and a workgroup's
    /// barriers cost it more than they save (LayerNormalization over 8 × 197 rows of 768: 5.6
    /// ms per invocation, 13–15 ms per workgroup, on lavapipe).
    pub(crate) fn untuned(gpu: &Gpu, cols: usize) -> Self {
        if cols < ROW_WORKGROUP_FROM || gpu.adapter_info().device_type == wgpu::DeviceType::Cpu {
            Rows::PerInvocation
        } else if Rows::Subgroups.runs_on(gpu) {
            Rows::Subgroups
        } else {
            Rows::PerWorkgroup
        }
    }

    /// The dispatch grid for `rows` rows.
    pub(super) fn grid(self, op: &'static str, rows: usize, per_dim: u32) -> Result<[u32; 2]> {
        match self {
            Rows::PerInvocation => grid(op, rows, per_dim),
            Rows::PerWorkgroup | Rows::Subgroups => {
                grid(op, rows.saturating_mul(ROW_LANES), per_dim)
            }
        }
    }
}
