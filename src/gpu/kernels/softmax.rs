//! Softmax and log-softmax along an axis (`softmax.wgsl`).

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value};
use super::window::grid;
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

pub(super) const SOFTMAX: KernelDef = KernelDef {
    name: "softmax",
    source: wgsl!("common.wgsl", "softmax.wgsl"),
    entry_point: "main",
    params: SoftmaxParams::LAYOUT,
    slots: &[read("input"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
};

/// Records a softmax over rows of `cols` values, `rows` per example, from `x` into `out`; a
/// row's values are `inner` apart (1: the last axis).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_softmax_strided(
    b: &mut ProgramBuilder<'_>,
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
        let grid = grid("softmax", total, per_dim)?;
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
    b.dispatch(
        Kernel::Softmax,
        vec![Binding::Read(x), Binding::Write(out)],
        params,
    );
    Ok(())
}

/// [`emit_softmax_strided`] over the last axis.
pub(crate) fn emit_softmax(
    b: &mut ProgramBuilder<'_>,
    rows: usize,
    cols: usize,
    log: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    emit_softmax_strided(b, rows, cols, 1, log, x, out)
}
