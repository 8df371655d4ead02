//! Element-wise layers (`unary.wgsl`): `f(x·scale + shift)` with an activation or a
//! parametrized ReLU/ELU, one value or one vec4 per invocation.

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, weight, write, Codes, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::window::grid;
use super::{activation, Kernel};
use crate::activation::{Activation, ElementFn};
use crate::error::Result;

params! {
    /// `Params` in `unary.wgsl`.
    pub(crate) struct UnaryParams {
        total: u32,
        channels: u32,
        mode: u32,
        activation: u32,
        per_channel: u32,
        has_max: u32,
        max_value: f32,
        negative_slope: f32,
        threshold: f32,
        alpha: f32,
        scalar_scale: f32,
        scalar_shift: f32,
        groups_x: u32,
        out_pitch: u32,
        out_offset: u32,
        has_scalar: u32,
    }
}

/// `Params.mode`: which element function the shader applies (its `MODE_*` consts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Activation = 0,
    ReluLayer = 1,
    LeakyRelu = 2,
    Elu = 3,
}

impl Mode {
    const ALL: [Mode; 4] = [Mode::Activation, Mode::ReluLayer, Mode::LeakyRelu, Mode::Elu];

    fn wgsl_name(self) -> &'static str {
        match self {
            Mode::Activation => "MODE_ACTIVATION",
            Mode::ReluLayer => "MODE_RELU_LAYER",
            Mode::LeakyRelu => "MODE_LEAKY_RELU",
            Mode::Elu => "MODE_ELU",
        }
    }
}

const MODES: Codes = Codes {
    what: "element-wise mode",
    table: || {
        Mode::ALL
            .iter()
            .map(|&m| (m.wgsl_name().to_string(), m as u32))
            .collect()
    },
    switch: true,
};

pub(super) const UNARY: KernelDef = KernelDef {
    name: "unary",
    source: wgsl!("common.wgsl", "activation.wgsl", "unary.wgsl"),
    entry_point: "main",
    params: UnaryParams::LAYOUT,
    slots: &[read("input"), weight("scale"), weight("shift"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[activation::CODES, MODES],
    features: wgpu::Features::empty(),
};

pub(super) const UNARY4: KernelDef = KernelDef {
    name: "unary4",
    entry_point: "main4",
    ..UNARY
};

/// One element-wise step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unary {
    pub mode: ElementFn,
    /// `x·scale + shift` first, as Keras's Rescaling computes it (`None`: nothing, so −0.0
    /// stays −0.0 through an activation, where `−0·1 + 0` would be +0.0).
    pub scalar: Option<(f32, f32)>,
    /// Then per-channel `x·scale[c] + shift[c]`.
    pub per_channel: Option<(Weight, Weight)>,
}

impl Unary {
    /// Just an activation.
    pub(crate) fn activation(a: Activation) -> Self {
        Self::mode(ElementFn::Activation(a))
    }

    /// Just `mode`.
    pub(crate) fn mode(mode: ElementFn) -> Self {
        Self {
            mode,
            scalar: None,
            per_channel: None,
        }
    }
}

/// Records `unary` over `x` (per-example `shape`, channels last) into `out` (which may be a
/// channel slice).
pub(crate) fn emit_unary(
    b: &mut ProgramBuilder<'_>,
    unary: Unary,
    x: Value,
    out: Value,
) -> Result<()> {
    let shape = b.shape(x).to_vec();
    let channels = shape.last().copied().unwrap_or(1).max(1);
    let per_example: usize = shape.iter().product();
    let (offset, pitch) = b.layout(out);
    let dense = offset == 0 && pitch == channels;
    // Four values per invocation when whole vec4s line up with channels and rows.
    let lanes = if per_example.is_multiple_of(4)
        && ((dense && unary.per_channel.is_none())
            || (channels % 4 == 0 && pitch % 4 == 0 && offset % 4 == 0))
    {
        4
    } else {
        1
    };
    // With a dense output and no per-channel map, vec4s need not respect channels: one example
    // is one row.
    let (row, row_pitch, row_offset) = if lanes == 4 && dense && unary.per_channel.is_none() {
        (per_example, per_example, 0)
    } else {
        (channels, pitch, offset)
    };
    let kernel = if lanes == 4 {
        Kernel::Unary4
    } else {
        Kernel::Unary
    };
    let (scale, shift) = match unary.per_channel {
        Some(pair) => pair,
        None => {
            let u = b.unused()?;
            (u, u)
        }
    };
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = Arc::new(move |batch: usize| {
        let total = batch * per_example / lanes;
        let grid = grid("elementwise", total, per_dim)?;
        let mut p = UnaryParams {
            total: total as u32,
            channels: (row / lanes) as u32,
            per_channel: u32::from(unary.per_channel.is_some()),
            scalar_scale: unary.scalar.map_or(1.0, |(s, _)| s),
            scalar_shift: unary.scalar.map_or(0.0, |(_, t)| t),
            has_scalar: u32::from(unary.scalar.is_some()),
            groups_x: grid[0],
            out_pitch: (row_pitch / lanes) as u32,
            out_offset: (row_offset / lanes) as u32,
            ..UnaryParams::default()
        };
        match unary.mode {
            ElementFn::Activation(a) => {
                p.mode = Mode::Activation as u32;
                p.activation = a.shader_code();
            }
            ElementFn::ReluLayer {
                max_value,
                negative_slope,
                threshold,
            } => {
                p.mode = Mode::ReluLayer as u32;
                p.has_max = u32::from(max_value.is_some());
                p.max_value = max_value.unwrap_or(0.0);
                p.negative_slope = negative_slope;
                p.threshold = threshold;
            }
            ElementFn::LeakyRelu(alpha) => {
                p.mode = Mode::LeakyRelu as u32;
                p.alpha = alpha;
            }
            ElementFn::Elu(alpha) => {
                p.mode = Mode::Elu as u32;
                p.alpha = alpha;
            }
        }
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        kernel,
        vec![
            Binding::Read(x),
            Binding::Weight(scale),
            Binding::Weight(shift),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}
