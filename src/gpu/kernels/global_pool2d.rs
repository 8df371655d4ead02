//! GlobalAveragePooling2D and GlobalMaxPooling2D as a split reduction
//! (`global_pool2d.wgsl`): runs of pixels per channel, then the runs combined.

use std::sync::Arc;

use super::super::kernel::{params, read, write, Coverage, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value};
use super::max_pool2d::PoolKind;
use super::window::grid;
use super::Kernel;
use crate::error::Result;

params! {
    /// `Params` in `global_pool2d.wgsl`.
    pub(crate) struct GlobalPoolParams {
        pixels: u32,
        channels: u32,
        slices: u32,
        slice_len: u32,
        total: u32,
        groups_x: u32,
        max: u32,
        finish: u32,
        out_pitch: u32,
        out_offset: u32,
        _pad0: u32,
        _pad1: u32,
    }
}

const SOURCE: &str = wgsl!("common.wgsl", "global_pool2d.wgsl");

pub(super) const RUNS: KernelDef = KernelDef {
    name: "global_pool2d",
    source: SOURCE,
    entry_point: "main",
    params: GlobalPoolParams::LAYOUT,
    slots: &[read("input"), write("partial")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

pub(super) const COMBINE: KernelDef = KernelDef {
    name: "global_pool2d_reduce",
    source: SOURCE,
    entry_point: "reduce",
    params: GlobalPoolParams::LAYOUT,
    slots: &[read("partial_in"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

/// Pixels per run: short enough that a large plane gives a GPU thousands of invocations, long
/// enough that the second pass stays small.
const RUN: usize = 64;
/// At most this many runs per plane (longer runs beyond that).
const MAX_RUNS: usize = 256;

/// The number of runs a plane of `pixels` is cut into, and their length.
fn runs(pixels: usize) -> (usize, usize) {
    let len = pixels.div_ceil(pixels.div_ceil(RUN).clamp(1, MAX_RUNS)).max(1);
    // Recounted from the length, so that no run is empty.
    (pixels.div_ceil(len).max(1), len)
}

/// Records a global pooling of per-example images `hwc` from `x` into `out` (`c` values per
/// example, possibly a channel slice of a wider value).
pub(crate) fn emit_global_pool2d(
    b: &mut ProgramBuilder<'_>,
    kind: PoolKind,
    hwc: [usize; 3],
    x: Value,
    out: Value,
) -> Result<()> {
    let [h, w, c] = hwc;
    let pixels = h * w;
    let (slices, slice_len) = runs(pixels);
    let (out_offset, out_pitch) = b.layout(out);
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = move |pass_total: fn(usize, usize, usize) -> usize, finish: bool| {
        Arc::new(move |batch: usize| {
            let total = pass_total(batch, slices, c);
            let grid = grid("global_pool2d", total, per_dim)?;
            let p = GlobalPoolParams {
                pixels: pixels as u32,
                channels: c as u32,
                slices: slices as u32,
                slice_len: slice_len as u32,
                total: total as u32,
                groups_x: grid[0],
                max: u32::from(kind == PoolKind::Max),
                finish: u32::from(finish),
                out_pitch: out_pitch as u32,
                out_offset: out_offset as u32,
                ..GlobalPoolParams::default()
            };
            Ok(Dispatch {
                bytes: bytemuck::bytes_of(&p).to_vec(),
                grid,
            })
        })
    };
    let runs_total = |batch: usize, slices: usize, c: usize| batch * slices * c;
    if slices == 1 {
        b.dispatch(
            Kernel::GlobalPool2d,
            vec![Binding::Read(x), Binding::Write(out)],
            params(runs_total, true),
        );
        return Ok(());
    }
    let partial = b.value(&[slices, c])?;
    b.dispatch(
        Kernel::GlobalPool2d,
        vec![Binding::Read(x), Binding::Write(partial)],
        params(runs_total, false),
    );
    b.dispatch(
        Kernel::GlobalPool2dReduce,
        vec![Binding::Read(partial), Binding::Write(out)],
        params(|batch, _, c| batch * c, false),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_cover_every_pixel_once() {
        for pixels in [1, 2, 63, 64, 65, 49, 3136, 12_544, 64 * 256, 64 * 256 + 1, 1 << 20] {
            let (slices, len) = runs(pixels);
            assert!((1..=256).contains(&slices), "{pixels}");
            // Every run starts inside the plane, and together they reach its end.
            assert!((slices - 1) * len < pixels && slices * len >= pixels, "{pixels}");
        }
    }
}
