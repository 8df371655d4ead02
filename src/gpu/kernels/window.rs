//! The Rust side of the `window.wgsl` prelude: the uniform block of the sliding-window kernels
//! (convolutions, pooling, border, transposed and depthwise convolution), its planning for one
//! chunk, and the workgroup grid every kernel's dispatch is folded into.

use super::super::kernel::{
    params, read, weight, write, Coverage, KernelDef, Slot, WORKGROUP_SIZE,
};
use super::super::program::Dispatch;
use super::{activation, Kernel};
use crate::error::{Error, Result};
use crate::shape::Window2d;

params! {
    /// `Params` in `window.wgsl`.
    pub(crate) struct WindowParams {
        batch: u32,
        in_h: u32,
        in_w: u32,
        in_c: u32,
        out_h: u32,
        out_w: u32,
        out_c: u32,
        win_h: u32,
        win_w: u32,
        stride_h: u32,
        stride_w: u32,
        dil_h: u32,
        dil_w: u32,
        pad_top: i32,
        pad_left: i32,
        has_bias: u32,
        activation: u32,
        total: u32,
        groups_x: u32,
        group_in: u32,
        group_out: u32,
        out_pitch: u32,
        out_offset: u32,
        has_residual: u32,
    }
}

/// A window kernel that convolves (Conv2D's variants, DepthwiseConv2D, Conv2DTranspose): it
/// reads the input, a kernel and a bias, writes the output and fuses an activation; `structure`
/// are its tile shapes, `coverage` how its invocations cover the output.
pub(super) const fn conv_def(
    name: &'static str,
    source: &'static str,
    entry_point: &'static str,
    structure: &'static [(&'static str, usize)],
    coverage: Coverage,
) -> KernelDef {
    const SLOTS: &[Slot] = &[
        read("input"),
        weight("kernel"),
        weight("bias"),
        write("output"),
    ];
    KernelDef {
        name,
        source,
        entry_point,
        params: WindowParams::LAYOUT,
        slots: SLOTS,
        structure,
        coverage,
        codes: &[activation::CODES],
        features: wgpu::Features::empty(),
    }
}

/// A Conv2D kernel: [`conv_def`]'s slots and a fifth, a tensor of the output's shape added
/// before the activation (a fused `Add`; the unused weight when there is none).
pub(super) const fn conv2d_def(
    name: &'static str,
    source: &'static str,
    entry_point: &'static str,
    structure: &'static [(&'static str, usize)],
    coverage: Coverage,
) -> KernelDef {
    const SLOTS: &[Slot] = &[
        read("input"),
        weight("kernel"),
        weight("bias"),
        write("output"),
        read("residual"),
    ];
    KernelDef {
        slots: SLOTS,
        ..conv_def(name, source, entry_point, structure, coverage)
    }
}

/// A window kernel that only reads its input and writes its output, one value per invocation
/// from `main` (pooling, border).
pub(super) const fn plain_def(name: &'static str, source: &'static str) -> KernelDef {
    const SLOTS: &[Slot] = &[read("input"), write("output")];
    KernelDef {
        name,
        source,
        entry_point: "main",
        params: WindowParams::LAYOUT,
        slots: SLOTS,
        structure: &[],
        coverage: Coverage::PerValue,
        codes: &[],
        features: wgpu::Features::empty(),
    }
}

/// Everything a window kernel needs about the geometry of one chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub input: [usize; 4],
    pub output: [usize; 4],
    pub window: [usize; 2],
    pub strides: [usize; 2],
    pub dilation: [usize; 2],
    /// Leading padding per axis; negative for a crop.
    pub pad: [isize; 2],
}

impl Geometry {
    /// The geometry of a window planned on zero-padded images (`g`, from the padded shape)
    /// when the input holds the images without their `padding`: the same output and windows,
    /// the padding moved into the window's own (cells outside the stored image read as zero).
    pub(crate) fn unpadded(g: &Window2d, padding: [[usize; 2]; 2]) -> Self {
        let [[top, bottom], [left, right]] = padding;
        let mut geometry = Self::from(g);
        geometry.input[1] = g.input[1].saturating_sub(top + bottom);
        geometry.input[2] = g.input[2].saturating_sub(left + right);
        geometry.pad[0] += top as isize;
        geometry.pad[1] += left as isize;
        geometry
    }
}

impl From<&Window2d> for Geometry {
    fn from(g: &Window2d) -> Self {
        Self {
            input: g.input,
            output: g.output,
            window: g.window,
            strides: g.strides,
            dilation: g.dilation,
            pad: [g.rows.pad_before as isize, g.cols.pad_before as isize],
        }
    }
}

/// Splits `total` invocations into a 2-D grid of workgroups `(x, y)` within
/// `max_compute_workgroups_per_dimension` (`per_dim`); the shaders fold it back into a flat
/// index with `groups_x`.
pub(crate) fn grid(op: &'static str, total: usize, per_dim: u32) -> Result<[u32; 2]> {
    let limit = |what: String, needed: u64, limit_name, limit| Error::LimitExceeded {
        op,
        what,
        needed,
        limit_name,
        limit,
    };
    let total = total as u64;
    if total > u64::from(u32::MAX) {
        return Err(limit(
            "invocations (32-bit shader indexing)".into(),
            total,
            "u32::MAX",
            u64::from(u32::MAX),
        ));
    }
    let groups = total.div_ceil(u64::from(WORKGROUP_SIZE)).max(1);
    let per_dim = u64::from(per_dim);
    if groups <= per_dim {
        return Ok([groups as u32, 1]);
    }
    let rows = groups.div_ceil(per_dim);
    if rows > per_dim {
        return Err(limit(
            format!("a {per_dim}×{rows} workgroup grid"),
            rows,
            "max_compute_workgroups_per_dimension",
            per_dim,
        ));
    }
    Ok([per_dim as u32, rows as u32])
}

/// The uniform block and grid of a window kernel, checked against 32-bit indexing and the
/// grid limits. `fill` sets the kernel-specific fields (bias, activation, groups, layout).
pub(crate) fn dispatch(
    op: &'static str,
    kernel: Kernel,
    g: &Geometry,
    per_dim: u32,
    fill: impl Fn(&mut WindowParams),
) -> Result<Dispatch> {
    // The shaders index in 32 bits, signed where padding is subtracted: the furthest padded
    // coordinate a window reaches, (out − 1)·stride + (window − 1)·dilation, must fit.
    for axis in 0..2 {
        let out = g.output[axis + 1].max(1) as u128;
        let reach = (out - 1) * g.strides[axis] as u128
            + (g.window[axis].max(1) as u128 - 1) * g.dilation[axis] as u128;
        if reach > i32::MAX as u128 {
            return Err(Error::LimitExceeded {
                op,
                what: format!("the padded window extent along axis {}", axis + 1),
                needed: u64::try_from(reach).unwrap_or(u64::MAX),
                limit_name: "i32::MAX (32-bit shader indexing)",
                limit: i32::MAX as u64,
            });
        }
    }
    for (what, len) in [
        ("input", g.input.iter().product::<usize>()),
        ("output", g.output.iter().product::<usize>()),
    ] {
        if len > u32::MAX as usize {
            return Err(Error::LimitExceeded {
                op,
                what: format!("the {what} ({len} values, 32-bit shader indexing)"),
                needed: len as u64,
                limit_name: "u32::MAX",
                limit: u64::from(u32::MAX),
            });
        }
    }
    let total = kernel.def().coverage.invocations(g.output);
    let grid = grid(op, total, per_dim)?;
    // Every extent fits in 32 bits: checked above or bounded by them.
    let u = |v: usize| v as u32;
    let mut params = WindowParams {
        batch: u(g.input[0]),
        in_h: u(g.input[1]),
        in_w: u(g.input[2]),
        in_c: u(g.input[3]),
        out_h: u(g.output[1]),
        out_w: u(g.output[2]),
        out_c: u(g.output[3]),
        win_h: u(g.window[0]),
        win_w: u(g.window[1]),
        stride_h: u(g.strides[0]),
        stride_w: u(g.strides[1]),
        dil_h: u(g.dilation[0]),
        dil_w: u(g.dilation[1]),
        pad_top: g.pad[0] as i32,
        pad_left: g.pad[1] as i32,
        total: u(total),
        groups_x: grid[0],
        group_in: u(g.input[3]),
        group_out: u(g.output[3]),
        out_pitch: u(g.output[3]),
        ..WindowParams::default()
    };
    fill(&mut params);
    Ok(Dispatch {
        bytes: bytemuck::bytes_of(&params).to_vec(),
        grid,
    })
}
