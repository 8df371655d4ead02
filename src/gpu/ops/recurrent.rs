//! Embedding lookups and the time steps of LSTM and GRU layers.

use std::sync::Arc;

use super::super::kernels::{EmbeddingParams, Kernel, RecurrentParams};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::window::grid;
use crate::activation::Activation;
use crate::error::Result;

/// Records an Embedding lookup of the ids in `x` (per example `ids` values) into `out`.
pub(crate) fn emit_embedding(
    b: &mut ProgramBuilder<'_>,
    ids: usize,
    vocab: usize,
    dim: usize,
    x: Value,
    table: Weight,
    out: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = Arc::new(move |batch: usize| {
        let total = batch * ids * dim;
        let grid = grid("embedding", total, per_dim)?;
        let p = EmbeddingParams {
            total: total as u32,
            dim: dim as u32,
            vocab: vocab as u32,
            groups_x: grid[0],
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::Embedding,
        vec![
            Binding::Read(x),
            Binding::Weight(table),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}

/// The cell of a recurrent layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Lstm,
    Gru,
}

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
                kind: u32::from(s.cell == Cell::Gru),
                activation: s.activation.shader_code(),
                recurrent_activation: s.recurrent_activation.shader_code(),
                total: total as u32,
                groups_x: grid[0],
                has_recurrent_bias: u32::from(recurrent_bias.is_some()),
                _pad: 0,
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
