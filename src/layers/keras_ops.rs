//! Operations Keras records when a model applies `keras.ops` arithmetic (or Python operators)
//! to symbolic tensors — `x + 3.0`, `x * (1/6)`, `3.0 - x`, `a + b` — serialized with module
//! `keras.src.ops.numpy` and their constant arguments in the call (MobileNetV3's hard-swish,
//! ConvNeXt's residual adds).

use serde_json::Value;

use super::config::{number, Config};
use super::Layer;
use crate::activation::{nan_max, nan_min};
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_binary, BinaryOp, Operand};
use crate::gpu::Lowering;
use crate::reference;
use crate::shape::broadcast;
use crate::tensor::Tensor;

/// The arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumpyOpKind {
    /// `a + b`
    Add,
    /// `a − b`
    Subtract,
    /// `a · b`
    Multiply,
    /// `a / b`
    Divide,
    /// `maximum(a, b)` (NaN wins)
    Maximum,
    /// `minimum(a, b)` (NaN wins)
    Minimum,
}

impl NumpyOpKind {
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            NumpyOpKind::Add => a + b,
            NumpyOpKind::Subtract => a - b,
            NumpyOpKind::Multiply => a * b,
            NumpyOpKind::Divide => a / b,
            NumpyOpKind::Maximum => nan_max(a, b),
            NumpyOpKind::Minimum => nan_min(a, b),
        }
    }
}

/// One `keras.ops` arithmetic node: two tensors, or a tensor and a constant on either side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumpyOp {
    /// The arithmetic.
    pub kind: NumpyOpKind,
    /// `Some((c, true))`: `c op x`; `Some((c, false))`: `x op c`; `None`: two tensors.
    pub constant: Option<(f32, bool)>,
    class: &'static str,
}

impl NumpyOp {
    /// Reads the op's config and its call's arguments (`[tensor, 3.0]`, `[3.0, tensor]` or
    /// `[tensor, tensor]`).
    pub(crate) fn from_config(
        c: &Config<'_>,
        kind: NumpyOpKind,
        class: &'static str,
    ) -> Result<Self> {
        c.check_keys(&[])?;
        let bad = || {
            c.error(format!(
                "expects two tensors, or a tensor and a number; called with {}",
                Value::Array(c.args.to_vec())
            ))
        };
        let constant = match c.args {
            [Value::Null, Value::Null] => None,
            [Value::Null, k] => Some((number(k).ok_or_else(bad)? as f32, false)),
            [k, Value::Null] => Some((number(k).ok_or_else(bad)? as f32, true)),
            _ => return Err(bad()),
        };
        Ok(Self {
            kind,
            constant,
            class,
        })
    }

    fn kernel_op(&self) -> BinaryOp {
        let first = matches!(self.constant, Some((_, true)));
        match (self.kind, first) {
            (NumpyOpKind::Add, _) => BinaryOp::Add,
            (NumpyOpKind::Subtract, false) => BinaryOp::Subtract,
            (NumpyOpKind::Subtract, true) => BinaryOp::ReverseSubtract,
            (NumpyOpKind::Multiply, _) => BinaryOp::Multiply,
            (NumpyOpKind::Divide, false) => BinaryOp::Divide,
            (NumpyOpKind::Divide, true) => BinaryOp::ReverseDivide,
            (NumpyOpKind::Maximum, _) => BinaryOp::Maximum,
            (NumpyOpKind::Minimum, _) => BinaryOp::Minimum,
        }
    }
}

impl Layer for NumpyOp {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn arity(&self) -> (usize, usize) {
        if self.constant.is_some() {
            (1, 1)
        } else {
            (2, 2)
        }
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        match inputs {
            [x] => Ok(x.to_vec()),
            [a, b] if a.len() == b.len() => broadcast("ops", a, b),
            [a, b] => Err(Error::ShapeMismatch {
                op: "ops",
                what: "inputs",
                expected: format!("the rank of {a:?}"),
                actual: b.to_vec(),
            }),
            _ => Err(Error::InvalidConfig {
                op: "ops",
                reason: "expects one or two tensors".into(),
            }),
        }
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let what = match self.constant {
            Some((c, true)) => format!("{c} {:?} x", self.kind),
            Some((c, false)) => format!("x {:?} {c}", self.kind),
            None => format!("a {:?} b", self.kind),
        };
        vec![format!("keras.ops arithmetic: {what}; params = 0")]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let kind = self.kind;
        match self.constant {
            Some((c, first)) => {
                let c = f64::from(c);
                reference::map(inputs[0], |x| {
                    if first {
                        kind.apply(c, x)
                    } else {
                        kind.apply(x, c)
                    }
                })
            }
            None => reference::binary(inputs[0], inputs[1], |a, b| kind.apply(a, b)),
        }
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let kind = self.kind;
        match self.constant {
            Some((c, first)) => {
                let c = f64::from(c);
                crate::cpu::map_with(inputs[0], |x| {
                    if first {
                        kind.apply(c, x)
                    } else {
                        kind.apply(x, c)
                    }
                })
            }
            None => crate::cpu::binary(inputs[0], inputs[1], |a, b| kind.apply(a, b)),
        }
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        let out = l.output()?;
        let rhs = match self.constant {
            Some((c, _)) => Operand::Weight(l.upload("constant", |_| Ok(vec![c]))?, vec![]),
            None => Operand::Value(l.input(1)),
        };
        emit_binary(l.builder(), self.kernel_op(), Some(x), rhs, out, 1.0)
    }
}
