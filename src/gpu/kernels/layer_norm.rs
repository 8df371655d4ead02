//! LayerNormalization over the last axis (`layer_norm.wgsl`): an invocation per row, or a
//! workgroup per row for long rows, reduced by a tree or by subgroup operations (the layout is
//! autotuned: `autotune/rows.rs`).

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, weight, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::row_reduce::{RowOp, Rows, ROW_LANES};
use super::Kernel;
use crate::error::Result;

params! {
    /// `Params` in `layer_norm.wgsl`.
    pub(crate) struct LayerNormParams {
        rows: u32,
        cols: u32,
        groups_x: u32,
        epsilon: f32,
        has_gamma: u32,
        has_beta: u32,
        rms: u32,
        _pad: u32,
    }
}

pub(super) const LAYER_NORM: KernelDef = KernelDef {
    name: "layer_norm",
    source: wgsl!("common.wgsl", "row_reduce.wgsl", "layer_norm.wgsl"),
    entry_point: "main",
    params: LayerNormParams::LAYOUT,
    slots: &[read("input"), weight("gamma"), weight("beta"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

pub(super) const LAYER_NORM_ROWS: KernelDef = KernelDef {
    name: "layer_norm_rows",
    entry_point: "rows",
    structure: &[("ROW_LANES", ROW_LANES)],
    ..LAYER_NORM
};

pub(super) const LAYER_NORM_ROWS_SUBGROUP: KernelDef = KernelDef {
    name: "layer_norm_rows_subgroup",
    source: wgsl!("common.wgsl", "row_reduce_subgroup.wgsl", "layer_norm.wgsl"),
    features: wgpu::Features::SUBGROUP,
    ..LAYER_NORM_ROWS
};

/// Records LayerNormalization over rows of `cols` values (`rows` per example). `batch`: the
/// most examples the program runs at once, for which the row layout is chosen (autotuned where
/// that is on).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_layer_norm(
    b: &mut ProgramBuilder<'_>,
    batch: usize,
    rows: usize,
    cols: usize,
    epsilon: f32,
    gamma: Option<Weight>,
    beta: Option<Weight>,
    rms: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    let layout = b
        .gpu()
        .row_layout(RowOp::LayerNorm, batch, rows, cols, 1)?;
    let norm = Norm {
        epsilon,
        gamma,
        beta,
        rms,
    };
    emit_layer_norm_as(b, layout, rows, cols, norm, x, out)
}

/// LayerNormalization's options, as [`emit_layer_norm`] takes them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Norm {
    pub(crate) epsilon: f32,
    pub(crate) gamma: Option<Weight>,
    pub(crate) beta: Option<Weight>,
    pub(crate) rms: bool,
}

/// [`emit_layer_norm`] with the rows laid out as `layout`.
pub(crate) fn emit_layer_norm_as(
    b: &mut ProgramBuilder<'_>,
    layout: Rows,
    rows: usize,
    cols: usize,
    norm: Norm,
    x: Value,
    out: Value,
) -> Result<()> {
    let Norm {
        epsilon,
        gamma,
        beta,
        rms,
    } = norm;
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let unused = b.unused()?;
    let params = Arc::new(move |batch: usize| {
        let total = batch * rows;
        let grid = layout.grid("layer_normalization", total, per_dim)?;
        let p = LayerNormParams {
            rows: total as u32,
            cols: cols as u32,
            groups_x: grid[0],
            epsilon,
            has_gamma: u32::from(gamma.is_some()),
            has_beta: u32::from(beta.is_some()),
            rms: u32::from(rms),
            ..LayerNormParams::default()
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    let kernel = match layout {
        Rows::PerInvocation => Kernel::LayerNorm,
        Rows::PerWorkgroup => Kernel::LayerNormRows,
        Rows::Subgroups => Kernel::LayerNormRowsSubgroup,
    };
    b.dispatch(
        kernel,
        vec![
            Binding::Read(x),
            Binding::Weight(gamma.unwrap_or(unused)),
            Binding::Weight(beta.unwrap_or(unused)),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}
