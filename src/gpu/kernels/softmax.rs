//! Softmax and log-softmax along an axis (`softmax.wgsl`): an invocation per row, or a
//! workgroup per row for long rows, reduced by a tree or by subgroup operations (the layout is
//! autotuned: `autotune/rows.rs`).

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value};
use super::row_reduce::{RowOp, Rows, ROW_LANES};
use super::Kernel;
use crate::error::Result;

params! {
    /// `Params` in `softmax.wgsl`.
    pub(crate) struct SoftmaxParams {
        rows: u32,
        cols: u32,
        groups_x: u32,
        log: u32,
        inner: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

const SOURCE: &str = wgsl!("common.wgsl", "row_reduce.wgsl", "softmax.wgsl");

pub(super) const SOFTMAX: KernelDef = KernelDef {
    name: "softmax",
    source: SOURCE,
    entry_point: "main",
    params: SoftmaxParams::LAYOUT,
    slots: &[read("input"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

pub(super) const SOFTMAX_ROWS: KernelDef = KernelDef {
    name: "softmax_rows",
    entry_point: "rows",
    structure: &[("ROW_LANES", ROW_LANES)],
    ..SOFTMAX
};

pub(super) const SOFTMAX_ROWS_SUBGROUP: KernelDef = KernelDef {
    name: "softmax_rows_subgroup",
    source: wgsl!("common.wgsl", "row_reduce_subgroup.wgsl", "softmax.wgsl"),
    features: wgpu::Features::SUBGROUP,
    ..SOFTMAX_ROWS
};

/// Records a softmax over rows of `cols` values, `rows` per example, from `x` into `out`; a
/// row's values are `inner` apart (1: the last axis). `batch`: the most examples the program
/// runs at once, for which the row layout is chosen (autotuned where that is on).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_softmax_strided(
    b: &mut ProgramBuilder<'_>,
    batch: usize,
    rows: usize,
    cols: usize,
    inner: usize,
    log: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    let layout = b
        .gpu()
        .row_layout(RowOp::Softmax, batch, rows, cols, inner)?;
    emit_softmax_as(b, layout, rows, cols, inner, log, x, out)
}

/// [`emit_softmax_strided`] with the rows laid out as `layout`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_softmax_as(
    b: &mut ProgramBuilder<'_>,
    layout: Rows,
    rows: usize,
    cols: usize,
    inner: usize,
    log: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = Arc::new(move |batch: usize| {
        let total = batch * rows;
        let grid = layout.grid("softmax", total, per_dim)?;
        let p = SoftmaxParams {
            rows: total as u32,
            cols: cols as u32,
            groups_x: grid[0],
            log: u32::from(log),
            inner: inner as u32,
            ..SoftmaxParams::default()
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    let kernel = match layout {
        Rows::PerInvocation => Kernel::Softmax,
        Rows::PerWorkgroup => Kernel::SoftmaxRows,
        Rows::Subgroups => Kernel::SoftmaxRowsSubgroup,
    };
    b.dispatch(
        kernel,
        vec![Binding::Read(x), Binding::Write(out)],
        params,
    );
    Ok(())
}

/// [`emit_softmax_strided`] over the last axis.
pub(crate) fn emit_softmax(
    b: &mut ProgramBuilder<'_>,
    batch: usize,
    rows: usize,
    cols: usize,
    log: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    emit_softmax_strided(b, batch, rows, cols, 1, log, x, out)
}
