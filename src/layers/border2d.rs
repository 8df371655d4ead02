//! What ZeroPadding2D and Cropping2D share: Keras's amounts, and one implementation of the
//! [`Layer`] trait over the border planner (`shape::plan_border`, negative amounts crop) and the
//! border kernel.

use serde_json::Value;

use super::config::{as_usize, Config};
use super::shapes::hwc;
use super::Layer;
use crate::error::Result;
use crate::gpu::kernels::emit_border2d;
use crate::gpu::Lowering;
use crate::reference;
use crate::shape::Border2d;
use crate::tensor::Tensor;

/// Keras's `N`, `(H, W)` or `((T, B), (L, R))` amounts (ZeroPadding2D's `padding`,
/// Cropping2D's `cropping`).
pub(crate) fn amounts(c: &Config<'_>, key: &str, default: usize) -> Result<[[usize; 2]; 2]> {
    let forms = "N, (H, W) or ((T, B), (L, R))";
    match axis_amounts(c, key, 2, default, forms)?.as_slice() {
        &[h, w] => Ok([h, w]),
        _ => Err(c.error(format!("{key} is not {forms}"))),
    }
}

/// Keras's padding or cropping amounts for `rank` spatial axes, `(before, after)` per axis:
/// `N`, one `N` per axis, or one `(before, after)` per axis; for one axis also
/// `(before, after)` itself. `forms` names them in the error.
pub(crate) fn axis_amounts(
    c: &Config<'_>,
    key: &str,
    rank: usize,
    default: usize,
    forms: &str,
) -> Result<Vec<[usize; 2]>> {
    let value = c.get(key).cloned().unwrap_or(Value::from(default));
    let pair = |v: &Value| -> Option<[usize; 2]> {
        match v {
            Value::Array(a) if a.len() == 2 => Some([as_usize(&a[0])?, as_usize(&a[1])?]),
            other => as_usize(other).map(|n| [n, n]),
        }
    };
    let parsed = match &value {
        Value::Array(_) if rank == 1 => pair(&value).map(|p| vec![p]),
        Value::Array(a) if a.len() == rank => a.iter().map(pair).collect(),
        other => as_usize(other).map(|n| vec![[n, n]; rank]),
    };
    parsed.ok_or_else(|| c.error(format!("{key} {value} is not {forms}")))
}

/// The amounts as signed border sizes (`sign` −1 crops).
pub(crate) fn signed(a: [[usize; 2]; 2], sign: isize) -> [[isize; 2]; 2] {
    let s = |v: usize| (v.min(isize::MAX as usize) as isize) * sign;
    [[s(a[0][0]), s(a[0][1])], [s(a[1][0]), s(a[1][1])]]
}

/// A layer that adds (`SIGN` 1) or removes (`SIGN` −1) rows and columns at each image's borders.
pub(crate) trait Border: std::fmt::Debug + Send + Sync {
    /// The Keras class name.
    const CLASS: &'static str;
    /// The op's name in errors.
    const OP: &'static str;
    /// 1: pad, −1: crop.
    const SIGN: isize;

    /// `((top, bottom), (left, right))`.
    fn amounts(&self) -> [[usize; 2]; 2];

    /// The border plan for a per-example input shape.
    fn plan(&self, input: &[usize]) -> Result<Border2d> {
        Border2d::new(
            Self::OP,
            hwc(Self::OP, input)?,
            signed(self.amounts(), Self::SIGN),
        )
    }
}

impl<T: Border> Layer for T {
    fn class_name(&self) -> &'static str {
        T::CLASS
    }

    fn as_zero_padding(&self) -> Option<[[usize; 2]; 2]> {
        (T::SIGN > 0).then(|| self.amounts())
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        Ok(self.plan(inputs[0])?.output.to_vec())
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let [[t, b], [l, r]] = self.amounts();
        let op = if T::SIGN < 0 { '−' } else { '+' };
        vec![
            format!(
                "height: out = {} {op} {t} {op} {b} = {}",
                inputs[0][0], output[0]
            ),
            format!(
                "width: out = {} {op} {l} {op} {r} = {}",
                inputs[0][1], output[1]
            ),
            "params = 0".into(),
        ]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let plan = self.plan(&inputs[0].shape()[1..])?;
        reference::border2d(&plan, inputs[0])
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let plan = self.plan(&inputs[0].shape()[1..])?;
        crate::cpu::border2d(&plan, inputs[0])
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let plan = self.plan(l.input_shape(0))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_border2d(l.builder(), plan, x, out)
    }
}
