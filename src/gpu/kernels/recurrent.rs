//! The time steps of LSTM and GRU layers (`recurrent.wgsl`): one dispatch per step, the input
//! projection computed before by a Dense.

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, weight, write, Codes, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::window::grid;
use super::{activation, Kernel};
use crate::activation::Activation;
use crate::error::Result;

params! {
    /// `Params` in `recurrent.wgsl`.
    pub(crate) struct RecurrentParams {
        batch: u32,
        steps: u32,
        units: u32,
        step: u32,
        t: u32,
        kind: u32,
        activation: u32,
        recurrent_activation: u32,
        total: u32,
        groups_x: u32,
        has_recurrent_bias: u32,
        _pad: u32,
    }
}

pub(super) const RECURRENT: KernelDef = KernelDef {
    name: "recurrent",
    source: wgsl!("common.wgsl", "activation.wgsl", "recurrent.wgsl"),
    entry_point: "main",
    params: RecurrentParams::LAYOUT,
    slots: &[
        read("projected"),
        weight("recurrent"),
        weight("recurrent_bias"),
        write("hidden"),
        write("cell"),
    ],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[activation::CODES, CELLS],
    features: wgpu::Features::empty(),
};


/// The cell of a recurrent layer; its value is `Params.kind` (the shader's `CELL_*` consts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Lstm = 0,
    Gru = 1,
}

const CELLS: Codes = Codes {
    what: "recurrent cell",
    table: || vec![("CELL_LSTM".into(), Cell::Lstm as u32), ("CELL_GRU".into(), Cell::Gru as u32)],
    switch: false,
};

/// A recurrent layer's step configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub cell: Cell,
    pub steps: usize,
    pub units: usize,
    pub activation: Activation,
    pub recurrent_activation: Activation,
    pub go_backwards: bool,
}

/// Records every time step: reads the input projection `projected` ([steps, gates·units] per
/// example), writes every step's hidden state to `hidden` ([steps, units] per example);
/// `cell` holds an LSTM's cell state.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_steps(
    b: &mut ProgramBuilder<'_>,
    s: Steps,
    projected: Value,
    recurrent: Weight,
    recurrent_bias: Option<Weight>,
    hidden: Value,
    cell: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let bias = match recurrent_bias {
        Some(w) => w,
        None => b.unused()?,
    };
    for step in 0..s.steps {
        let t = if s.go_backwards {
            s.steps - 1 - step
        } else {
            step
        };
        let params = Arc::new(move |batch: usize| {
            let total = batch * s.units;
            let grid = grid("recurrent", total, per_dim)?;
            let p = RecurrentParams {
                batch: batch as u32,
                steps: s.steps as u32,
                units: s.units as u32,
                step: step as u32,
                t: t as u32,
                kind: s.cell as u32,
                activation: s.activation.shader_code(),
                recurrent_activation: s.recurrent_activation.shader_code(),
                total: total as u32,
                groups_x: grid[0],
                has_recurrent_bias: u32::from(recurrent_bias.is_some()),
                ..RecurrentParams::default()
            };
            Ok(Dispatch {
                bytes: bytemuck::bytes_of(&p).to_vec(),
                grid,
            })
        });
        b.dispatch(
            Kernel::Recurrent,
            vec![
                Binding::Read(projected),
                Binding::Weight(recurrent),
                Binding::Weight(bias),
                Binding::Write(hidden),
                Binding::Write(cell),
            ],
            params,
        );
    }
    Ok(())
}
