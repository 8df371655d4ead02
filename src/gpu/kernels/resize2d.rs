//! UpSampling2D, nearest or bilinear (`resize2d.wgsl`).

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value};
use super::window::grid;
use super::Kernel;
use crate::error::Result;

params! {
    /// `Params` in `resize2d.wgsl`.
    pub(crate) struct ResizeParams {
        total: u32,
        in_h: u32,
        in_w: u32,
        channels: u32,
        out_h: u32,
        out_w: u32,
        bilinear: u32,
        groups_x: u32,
    }
}

pub(super) const RESIZE: KernelDef = KernelDef {
    name: "resize2d",
    source: wgsl!("common.wgsl", "resize2d.wgsl"),
    entry_point: "main",
    params: ResizeParams::LAYOUT,
    slots: &[read("input"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

/// Records UpSampling2D of per-example images `hwc` by `factor` from `x` into `out`.
pub(crate) fn emit_resize2d(
    b: &mut ProgramBuilder<'_>,
    hwc: [usize; 3],
    factor: [usize; 2],
    bilinear: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let [h, w, c] = hwc;
    let (oh, ow) = (h * factor[0], w * factor[1]);
    let params = Arc::new(move |batch: usize| {
        let total = batch * oh * ow * c;
        let grid = grid("upsampling2d", total, per_dim)?;
        let p = ResizeParams {
            total: total as u32,
            in_h: h as u32,
            in_w: w as u32,
            channels: c as u32,
            out_h: oh as u32,
            out_w: ow as u32,
            bilinear: u32::from(bilinear),
            groups_x: grid[0],
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::Resize2d,
        vec![Binding::Read(x), Binding::Write(out)],
        params,
    );
    Ok(())
}
