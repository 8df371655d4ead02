//! Keras's element-wise merge layers — `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
//! `Minimum` — with Keras's broadcasting: per-example shapes aligned at the end, size-1 axes
//! repeated (the squeeze-and-excite `x · se` of MobileNetV3 and EfficientNet).

use super::config::Config;
use super::{Epilogue, EpilogueStep, Layer};
#[cfg(feature = "native")]
use crate::activation::ElementFn;
use crate::activation::{nan_max, nan_min, Activation};
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_binary_then, emit_unary, BinaryOp, Operand, Unary};
use crate::gpu::Lowering;
use crate::reference;
use crate::shape::broadcast;
use crate::tensor::Tensor;

/// Which merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOp {
    /// `a + b + …`
    Add,
    /// `a − b` (exactly two inputs).
    Subtract,
    /// `a · b · …`
    Multiply,
    /// `(a + b + …) / n`
    Average,
    /// Element-wise maximum (NaN wins).
    Maximum,
    /// Element-wise minimum (NaN wins).
    Minimum,
}

impl MergeOp {
    fn combine(self, x: f64, y: f64) -> f64 {
        match self {
            MergeOp::Add | MergeOp::Average => x + y,
            MergeOp::Subtract => x - y,
            MergeOp::Multiply => x * y,
            MergeOp::Maximum => nan_max(x, y),
            MergeOp::Minimum => nan_min(x, y),
        }
    }

    fn kernel_op(self) -> BinaryOp {
        match self {
            MergeOp::Add | MergeOp::Average => BinaryOp::Add,
            MergeOp::Subtract => BinaryOp::Subtract,
            MergeOp::Multiply => BinaryOp::Multiply,
            MergeOp::Maximum => BinaryOp::Maximum,
            MergeOp::Minimum => BinaryOp::Minimum,
        }
    }
}

/// A merge layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    /// What it computes.
    pub op: MergeOp,
}

impl Merge {
    /// Reads Keras's config (merge layers have no options).
    pub(crate) fn from_config(c: &Config<'_>, op: MergeOp) -> Result<Self> {
        c.check_keys(&[])?;
        Ok(Self { op })
    }
}

impl Layer for Merge {
    fn class_name(&self) -> &'static str {
        match self.op {
            MergeOp::Add => "Add",
            MergeOp::Subtract => "Subtract",
            MergeOp::Multiply => "Multiply",
            MergeOp::Average => "Average",
            MergeOp::Maximum => "Maximum",
            MergeOp::Minimum => "Minimum",
        }
    }

    fn arity(&self) -> (usize, usize) {
        match self.op {
            MergeOp::Subtract => (2, 2),
            _ => (1, usize::MAX),
        }
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let (first, rest) = inputs.split_first().ok_or_else(|| Error::InvalidConfig {
            op: "merge",
            reason: "no inputs".into(),
        })?;
        rest.iter()
            .try_fold(first.to_vec(), |acc, s| broadcast("merge", &acc, s))
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        vec![format!(
            "{} inputs combined element by element (broadcast to {output:?}); params = 0",
            inputs.len()
        )]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let mut out = inputs[0].clone();
        for x in &inputs[1..] {
            out = reference::binary(&out, x, |a, b| self.op.combine(a, b))?;
        }
        if self.op == MergeOp::Average {
            let n = inputs.len() as f64;
            out = reference::map(&out, |v| v / n)?;
        }
        Ok(out)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        self.cpu_then(inputs, ElementFn::LINEAR)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        self.lower_then(l, Activation::Linear)
    }

    fn takes_epilogue(&self) -> bool {
        true
    }

    fn as_epilogue(&self, _weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        // Only a sum can be folded into the layer producing one of its inputs; the planner
        // checks there are two inputs of the same shape.
        (self.op == MergeOp::Add).then_some(Ok(EpilogueStep::Residual))
    }

    fn takes_affine(&self) -> bool {
        false
    }

    #[cfg(feature = "native")]
    fn cpu_fused(
        &self,
        inputs: &[&Tensor],
        _weights: &[Tensor],
        epilogue: &Epilogue,
    ) -> Result<Tensor> {
        self.cpu_then(inputs, epilogue.func)
    }

    fn lower_fused(&self, l: &mut Lowering<'_, '_>, epilogue: &Epilogue) -> Result<()> {
        let activation = epilogue
            .func
            .as_activation()
            .ok_or_else(|| Error::Internal {
                op: "merge",
                message: format!("cannot fuse {:?} on the GPU", epilogue.func),
            })?;
        self.lower_then(l, activation)
    }
}

impl Merge {
    /// The fast CPU merge with `f` applied to the result. The common two-input case is one
    /// pass with the op chosen outside the loop.
    #[cfg(feature = "native")]
    fn cpu_then(&self, inputs: &[&Tensor], f: ElementFn) -> Result<Tensor> {
        let linear = f == ElementFn::LINEAR;
        let finish = |v: f64| {
            if linear {
                v
            } else {
                f.apply(f64::from(v as f32))
            }
        };
        if let [a, b] = inputs {
            return match self.op {
                MergeOp::Add => crate::cpu::binary(a, b, |x, y| finish(x + y)),
                MergeOp::Subtract => crate::cpu::binary(a, b, |x, y| finish(x - y)),
                MergeOp::Multiply => crate::cpu::binary(a, b, |x, y| finish(x * y)),
                MergeOp::Average => {
                    crate::cpu::binary(a, b, |x, y| finish(f64::from((x + y) as f32) / 2.0))
                }
                MergeOp::Maximum => crate::cpu::binary(a, b, |x, y| finish(nan_max(x, y))),
                MergeOp::Minimum => crate::cpu::binary(a, b, |x, y| finish(nan_min(x, y))),
            };
        }
        let mut out = inputs[0].clone();
        for x in &inputs[1..] {
            out = crate::cpu::binary(&out, x, |a, b| self.op.combine(a, b))?;
        }
        let n = if self.op == MergeOp::Average {
            inputs.len() as f64
        } else {
            1.0
        };
        crate::cpu::map_with(&out, |v| finish(v / n))
    }

    /// The merge's kernels, `activation` applied by the last one.
    fn lower_then(&self, l: &mut Lowering<'_, '_>, activation: Activation) -> Result<()> {
        let inputs: Vec<_> = (0..l.input_count()).map(|i| l.input(i)).collect();
        let out = l.output()?;
        if inputs.len() == 1 {
            // One input: Keras returns it unchanged (Average divides it by 1).
            return emit_unary(l.builder(), Unary::activation(activation), inputs[0], out);
        }
        let op = self.op.kernel_op();
        let divisor = |last: bool| {
            if last && self.op == MergeOp::Average {
                inputs.len() as f32
            } else {
                1.0
            }
        };
        let then = |last: bool| if last { activation } else { Activation::Linear };
        emit_binary_then(
            l.builder(),
            op,
            Some(inputs[0]),
            Operand::Value(inputs[1]),
            out,
            divisor(inputs.len() == 2),
            then(inputs.len() == 2),
        )?;
        for (k, &x) in inputs.iter().enumerate().skip(2) {
            let last = k + 1 == inputs.len();
            emit_binary_then(
                l.builder(),
                op,
                None,
                Operand::Value(x),
                out,
                divisor(last),
                then(last),
            )?;
        }
        Ok(())
    }
}
