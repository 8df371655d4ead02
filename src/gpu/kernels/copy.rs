//! Rows of one tensor into a slice of another's rows (`copy.wgsl`): Concatenate, where its
//! inputs cannot be written in place.

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value};
use super::window::grid;
use super::Kernel;
use crate::error::Result;

params! {
    /// `Params` in `copy.wgsl`.
    pub(crate) struct CopyParams {
        total: u32,
        in_row: u32,
        out_row: u32,
        offset: u32,
        groups_x: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

pub(super) const COPY: KernelDef = KernelDef {
    name: "copy",
    source: wgsl!("common.wgsl", "copy.wgsl"),
    entry_point: "main",
    params: CopyParams::LAYOUT,
    slots: &[read("input"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

/// Records a copy of `x` (rows of `in_row` floats, `rows` per example) into floats
/// `[offset, offset + in_row)` of the rows of `out` (`out_row` floats each).
pub(crate) fn emit_copy(
    b: &mut ProgramBuilder<'_>,
    x: Value,
    rows: usize,
    in_row: usize,
    out: Value,
    out_row: usize,
    offset: usize,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = Arc::new(move |batch: usize| {
        let total = batch * rows * in_row;
        let grid = grid("concatenate", total, per_dim)?;
        let p = CopyParams {
            total: total as u32,
            in_row: in_row as u32,
            out_row: out_row as u32,
            offset: offset as u32,
            groups_x: grid[0],
            ..CopyParams::default()
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::Copy,
        vec![Binding::Read(x), Binding::Write(out)],
        params,
    );
    Ok(())
}
