//! Dense with the reduction split into slices (`dense_splitk.wgsl`: partial sums, then their
//! sum), and the Dense emitter: blocks of units (for kernels larger than one binding), each a
//! 1×1 convolution on the Conv2D kernels or a split-K product (the autotuner chooses:
//! `autotune/dense.rs`).

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, weight, write, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value};
use super::conv2d::{emit_conv2d, ConvVariant, ConvWeights};
use super::window::grid;
use super::{activation, Kernel};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::specs::Conv2dSpec;

params! {
    /// `Params` in `dense_splitk.wgsl`.
    pub(crate) struct SplitKParams {
        rows: u32,
        k: u32,
        units: u32,
        slices: u32,
        slice_len: u32,
        groups_x: u32,
        total: u32,
        has_bias: u32,
        activation: u32,
        out_pitch: u32,
        out_offset: u32,
        _pad: u32,
    }
}

const SOURCE: &str = wgsl!("common.wgsl", "activation.wgsl", "dense_splitk.wgsl");

pub(super) const SPLIT_K: KernelDef = KernelDef {
    name: "dense_splitk",
    source: SOURCE,
    entry_point: "main",
    params: SplitKParams::LAYOUT,
    slots: &[read("input"), weight("kernel"), write("partial")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[activation::CODES],
    features: wgpu::Features::empty(),
};

pub(super) const SPLIT_K_REDUCE: KernelDef = KernelDef {
    name: "dense_splitk_reduce",
    source: SOURCE,
    entry_point: "reduce",
    params: SplitKParams::LAYOUT,
    slots: &[read("partial_in"), weight("bias"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[activation::CODES],
    features: wgpu::Features::empty(),
};

/// Reductions at least this long, over at most `SPLIT_K_ROWS` rows, may be split ...
const SPLIT_K_MIN: usize = 2048;
const SPLIT_K_ROWS: usize = 64;
/// ... and over at most this many they are when nothing is measured: a GEMV streaming the
/// kernel. The Conv2D kernels give few rows too few invocations, each summing the whole
/// reduction; but split-K reads the kernel once per row, so more rows soon favour them
/// (lavapipe, 25088 → 4096 units: split-K 163 ms at 1 row, 603 at 4, 4.9 s at 32; the 1×1
/// convolution 240, 238 and 755 ms).
const SPLIT_K_UNTUNED_ROWS: usize = 4;
/// Target terms per slice.
const SLICE: usize = 1024;

/// How a block of Dense units runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DenseLayout {
    /// The reduction split into slices ([`emit_split_k`]).
    SplitK,
    /// A 1×1 convolution on the Conv2D kernels (their variant chosen on its own).
    Gemm,
}

impl DenseLayout {
    /// Every layout, in the order the autotuner lists them.
    pub(crate) const ALL: [DenseLayout; 2] = [DenseLayout::SplitK, DenseLayout::Gemm];

    /// The layouts worth timing for `rows` rows (a whole chunk) of `features` inputs, the
    /// untuned one first: only a long reduction over few rows may be split.
    pub(crate) fn candidates(rows: usize, features: usize) -> Vec<DenseLayout> {
        if features < SPLIT_K_MIN || rows > SPLIT_K_ROWS {
            vec![DenseLayout::Gemm]
        } else if rows <= SPLIT_K_UNTUNED_ROWS {
            vec![DenseLayout::SplitK, DenseLayout::Gemm]
        } else {
            vec![DenseLayout::Gemm, DenseLayout::SplitK]
        }
    }
}

/// Records a split-K Dense of `units` (a block) into `out`'s rows at `[pitch, offset]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_split_k(
    b: &mut ProgramBuilder<'_>,
    rows: usize,
    features: usize,
    units: usize,
    activation: Activation,
    x: Value,
    weights: ConvWeights,
    out: Value,
    [pitch, offset]: [usize; 2],
) -> Result<()> {
    let slices = (features / SLICE).clamp(1, 64);
    let slice_len = features.div_ceil(slices);
    let partial = b.value(&[rows, slices, units])?;
    let bias = match weights.bias {
        Some(w) => w,
        None => b.unused()?,
    };
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let has_bias = weights.bias.is_some();
    let params = move |reduce: bool| {
        Arc::new(move |batch: usize| {
            let total = batch * rows * units * if reduce { 1 } else { slices };
            let grid = grid("dense", total, per_dim)?;
            let p = SplitKParams {
                rows: (batch * rows) as u32,
                k: features as u32,
                units: units as u32,
                slices: slices as u32,
                slice_len: slice_len as u32,
                groups_x: grid[0],
                total: total as u32,
                has_bias: u32::from(has_bias),
                activation: activation.shader_code(),
                out_pitch: pitch as u32,
                out_offset: offset as u32,
                ..SplitKParams::default()
            };
            Ok(Dispatch {
                bytes: bytemuck::bytes_of(&p).to_vec(),
                grid,
            })
        })
    };
    b.dispatch(
        Kernel::DenseSplitK,
        vec![
            Binding::Read(x),
            Binding::Weight(weights.kernel),
            Binding::Write(partial),
        ],
        params(false),
    );
    b.dispatch(
        Kernel::DenseSplitKReduce,
        vec![
            Binding::Read(partial),
            Binding::Weight(bias),
            Binding::Write(out),
        ],
        params(true),
    );
    Ok(())
}

/// Records Dense on the last axis — `rows` rows of `features` per example. A kernel larger
/// than one binding is split into blocks of units, each written into its columns of `out`;
/// `upload(first, count, variant)` uploads the kernel (and bias) of units
/// `first..first + count` in `variant`'s layout. Each block runs as a 1×1 convolution on the
/// Conv2D kernels, or — for a long reduction over few rows, where the autotuner finds it
/// faster — split along the reduction ([`emit_split_k`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_dense(
    b: &mut ProgramBuilder<'_>,
    rows: usize,
    features: usize,
    units: usize,
    activation: Activation,
    tune_batch: usize,
    x: Value,
    out: Value,
    mut upload: impl FnMut(&mut ProgramBuilder<'_>, usize, usize, ConvVariant) -> Result<ConvWeights>,
) -> Result<()> {
    let limit = b.gpu().limits().max_storage_buffer_binding_size / 4;
    let (out_offset, _) = b.layout(out);
    // Units per block: as many as fit one binding, a multiple of 4 where possible so the
    // blocks keep the vec4 stores.
    let fit = (limit / features.max(1) as u64) as usize;
    let block = if fit >= units {
        units
    } else if fit >= 4 {
        fit - fit % 4
    } else {
        fit
    };
    if block == 0 {
        return Err(Error::LimitExceeded {
            op: "dense",
            what: format!("one column of the kernel ({features} floats)"),
            needed: features as u64 * 4,
            limit_name: "max_storage_buffer_binding_size",
            limit: limit * 4,
        });
    }
    let mut first = 0;
    while first < units {
        let count = block.min(units - first);
        let layout = b
            .gpu()
            .dense_layout(tune_batch, rows, features, count)?;
        if layout == DenseLayout::SplitK {
            let weights = upload(b, first, count, ConvVariant::Direct)?;
            emit_split_k(
                b,
                rows,
                features,
                count,
                activation,
                x,
                weights,
                out,
                [units, out_offset + first],
            )?;
            first += count;
            continue;
        }
        let spec = Conv2dSpec::new(count, [1, 1]).activation(activation);
        let slice = if count == units {
            out
        } else {
            let shape = [rows, 1, count];
            let whole_shape = [rows, 1, units];
            let whole = b.view(out, &whole_shape)?;
            b.channel_slice(whole, out_offset + first, &shape)?
        };
        let variant = b
            .gpu()
            .conv_variant(&spec, [tune_batch, rows, 1, features])?;
        let (offset, pitch) = b.layout(slice);
        let variant = if variant.fits(count, 1, pitch, offset) {
            variant
        } else {
            ConvVariant::Wide
        };
        let weights = upload(b, first, count, variant)?;
        emit_conv2d(b, variant, &spec, [rows, 1, features], x, weights, slice, None)?;
        first += count;
    }
    Ok(())
}
