//! Broadcasting element-wise binary ops (`binary.wgsl`): merges, keras.ops arithmetic, PReLU,
//! and strided gathers (Permute).

use std::sync::Arc;

use super::super::kernel::{Coverage, params, read, write, Codes, KernelDef};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::window::grid;
use super::{activation, Kernel};
use crate::activation::Activation;
use crate::error::{Error, Result};

params! {
    /// `Params` in `binary.wgsl`.
    pub(crate) struct BinaryParams {
        total: u32,
        rank: u32,
        op: u32,
        groups_x: u32,
        accumulate: u32,
        divisor: f32,
        a_offset: u32,
        activation: u32,
        dims: [u32; 8],
        a_strides: [u32; 8],
        b_strides: [u32; 8],
    }
}

const OPS: Codes = Codes {
    what: "binary op",
    table: || {
        BinaryOp::ALL
            .iter()
            .map(|&op| (op.wgsl_name().to_string(), op.code()))
            .collect()
    },
    switch: true,
};

pub(super) const BINARY: KernelDef = KernelDef {
    name: "binary",
    source: wgsl!("common.wgsl", "activation.wgsl", "binary.wgsl"),
    entry_point: "main",
    params: BinaryParams::LAYOUT,
    slots: &[read("a"), read("b"), write("output")],
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[activation::CODES, OPS],
    features: wgpu::Features::empty(),
};

/// What a binary step computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Maximum,
    Minimum,
    /// `relu(x) − alpha·relu(−x)` with `alpha` the right operand.
    Prelu,
    /// `b − a`
    ReverseSubtract,
    /// `b / a`
    ReverseDivide,
    /// `a` (a strided gather: Permute)
    First,
}

impl BinaryOp {
    const ALL: [BinaryOp; 10] = [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::Divide,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Prelu,
        BinaryOp::ReverseSubtract,
        BinaryOp::ReverseDivide,
        BinaryOp::First,
    ];

    /// The shader's `OP_*` const for this op.
    fn wgsl_name(self) -> &'static str {
        match self {
            BinaryOp::Add => "OP_ADD",
            BinaryOp::Subtract => "OP_SUBTRACT",
            BinaryOp::Multiply => "OP_MULTIPLY",
            BinaryOp::Divide => "OP_DIVIDE",
            BinaryOp::Maximum => "OP_MAXIMUM",
            BinaryOp::Minimum => "OP_MINIMUM",
            BinaryOp::Prelu => "OP_PRELU",
            BinaryOp::ReverseSubtract => "OP_REVERSE_SUBTRACT",
            BinaryOp::ReverseDivide => "OP_REVERSE_DIVIDE",
            BinaryOp::First => "OP_FIRST",
        }
    }

    /// `Params.op`.
    fn code(self) -> u32 {
        match self {
            BinaryOp::Add => 0,
            BinaryOp::Subtract => 1,
            BinaryOp::Multiply => 2,
            BinaryOp::Divide => 3,
            BinaryOp::Maximum => 4,
            BinaryOp::Minimum => 5,
            BinaryOp::Prelu => 6,
            BinaryOp::ReverseSubtract => 7,
            BinaryOp::ReverseDivide => 8,
            BinaryOp::First => 9,
        }
    }
}

/// The right operand: a value (batched like the output) or a weight of a per-example shape
/// (one copy for the whole batch).
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Value(Value),
    Weight(Weight, Vec<usize>),
}

/// Strides of an operand of per-example `shape` over output dimensions `(batch, ..out)`:
/// NumPy broadcasting (shapes aligned at the end, size-1 axes repeat); `batched` operands step
/// through the batch, weights do not.
pub(crate) fn broadcast_strides(
    shape: &[usize],
    out: &[usize],
    batched: bool,
) -> Result<Vec<usize>> {
    if shape.len() > out.len() {
        return Err(Error::Internal {
            op: "broadcast",
            message: format!("{shape:?} has more axes than {out:?}"),
        });
    }
    let lead = out.len() - shape.len();
    let mut strides = vec![0usize; out.len() + 1];
    let mut step = 1usize;
    for k in (0..out.len()).rev() {
        let d = if k >= lead { shape[k - lead] } else { 1 };
        if d == out[k] {
            strides[k + 1] = step;
        } else if d != 1 {
            return Err(Error::Internal {
                op: "broadcast",
                message: format!("{shape:?} does not broadcast to {out:?}"),
            });
        }
        step *= d;
    }
    strides[0] = if batched { step } else { 0 };
    Ok(strides)
}

/// Records `out = a op b` (or, with `accumulate`, `out = out op b`; `a` is ignored), divided
/// by `divisor`, broadcasting both operands to `out`'s shape.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_binary(
    b: &mut ProgramBuilder<'_>,
    op: BinaryOp,
    a: Option<Value>,
    rhs: Operand,
    out: Value,
    divisor: f32,
) -> Result<()> {
    emit_binary_then(b, op, a, rhs, out, divisor, Activation::Linear)
}

/// [`emit_binary`] with `activation` applied to each result (a fused merge → activation).
pub(crate) fn emit_binary_then(
    b: &mut ProgramBuilder<'_>,
    op: BinaryOp,
    a: Option<Value>,
    rhs: Operand,
    out: Value,
    divisor: f32,
    activation: Activation,
) -> Result<()> {
    let out_shape = b.shape(out).to_vec();
    if out_shape.len() + 1 > 8 {
        return Err(Error::InvalidConfig {
            op: "merge",
            reason: format!(
                "{} axes; the GPU kernel handles up to 7 besides the batch",
                out_shape.len()
            ),
        });
    }
    let a_strides = match a {
        Some(v) => broadcast_strides(b.shape(v), &out_shape, true)?,
        None => vec![0; out_shape.len() + 1],
    };
    let (b_strides, rhs_binding) = match rhs {
        Operand::Value(v) => (
            broadcast_strides(b.shape(v), &out_shape, true)?,
            Binding::Read(v),
        ),
        Operand::Weight(w, shape) => (
            broadcast_strides(&shape, &out_shape, false)?,
            Binding::Weight(w),
        ),
    };
    let a_binding = match a {
        Some(v) => Binding::Read(v),
        None => Binding::Weight(b.unused()?),
    };
    let per_example: usize = out_shape.iter().product();
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let accumulate = a.is_none();
    let params = Arc::new(move |batch: usize| {
        let total = batch * per_example;
        let grid = grid("merge", total, per_dim)?;
        let mut p = BinaryParams {
            total: total as u32,
            rank: (out_shape.len() + 1) as u32,
            op: op.code(),
            groups_x: grid[0],
            accumulate: u32::from(accumulate),
            divisor,
            activation: activation.shader_code(),
            ..BinaryParams::default()
        };
        p.dims[0] = batch as u32;
        for (k, &d) in out_shape.iter().enumerate() {
            p.dims[k + 1] = d as u32;
        }
        for (k, (&sa, &sb)) in a_strides.iter().zip(&b_strides).enumerate() {
            p.a_strides[k] = sa as u32;
            p.b_strides[k] = sb as u32;
        }
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::Binary,
        vec![a_binding, rhs_binding, Binding::Write(out)],
        params,
    );
    Ok(())
}

/// Records `out[i] = x[offset + Σ coordinate_k(i) · strides[k]]` over `out`'s dimensions (batch
/// first): any transposition or strided slice of `x` (Permute, an RNN's last step), as a binary
/// step whose right operand is ignored.
pub(crate) fn emit_gather(
    b: &mut ProgramBuilder<'_>,
    x: Value,
    strides: Vec<usize>,
    offset: usize,
    out: Value,
) -> Result<()> {
    let out_shape = b.shape(out).to_vec();
    if out_shape.len() + 1 > 8 || strides.len() != out_shape.len() + 1 {
        return Err(Error::InvalidConfig {
            op: "permute",
            reason: format!(
                "{} axes; the GPU kernel handles up to 7 besides the batch",
                out_shape.len()
            ),
        });
    }
    let unused = b.unused()?;
    let per_example: usize = out_shape.iter().product();
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = Arc::new(move |batch: usize| {
        let total = batch * per_example;
        let grid = grid("permute", total, per_dim)?;
        let mut p = BinaryParams {
            total: total as u32,
            rank: (out_shape.len() + 1) as u32,
            op: BinaryOp::First.code(),
            groups_x: grid[0],
            divisor: 1.0,
            a_offset: offset as u32,
            ..BinaryParams::default()
        };
        p.dims[0] = batch as u32;
        for (k, &d) in out_shape.iter().enumerate() {
            p.dims[k + 1] = d as u32;
        }
        for (k, &s) in strides.iter().enumerate() {
            p.a_strides[k] = s as u32;
        }
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::Binary,
        vec![
            Binding::Read(x),
            Binding::Weight(unused),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}
