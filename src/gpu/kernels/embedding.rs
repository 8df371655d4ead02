//! Embedding lookups (`embedding.wgsl`), one output value per invocation.

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, weight, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::window::grid;
use super::Kernel;
use crate::error::Result;

params! {
    /// `Params` in `embedding.wgsl`.
    pub(crate) struct EmbeddingParams {
        total: u32,
        dim: u32,
        vocab: u32,
        groups_x: u32,
    }
}

pub(super) const EMBEDDING: KernelDef = KernelDef {
    name: "embedding",
    source: wgsl!("common.wgsl", "embedding.wgsl"),
    entry_point: "main",
    params: EmbeddingParams::LAYOUT,
    slots: &[read("ids"), weight("table"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
    features: wgpu::Features::empty(),
};

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
