//! Keras `ZeroPadding2D`: rows and columns of zeros around each image.

use serde_json::Value;

use super::config::{as_usize, Config};
use super::shapes::hwc;
use super::Layer;
use crate::error::Result;
use crate::gpu::ops::emit_border2d;
use crate::gpu::Lowering;
use crate::reference;
use crate::shape::Border2d;
use crate::tensor::Tensor;

/// `ZeroPadding2D(((top, bottom), (left, right)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroPadding2d(pub [[usize; 2]; 2]);

/// Keras's `N`, `(H, W)` or `((T, B), (L, R))` amounts (ZeroPadding2D's `padding`,
/// Cropping2D's `cropping`).
pub(crate) fn amounts(c: &Config<'_>, key: &str, default: usize) -> Result<[[usize; 2]; 2]> {
    let value = c.get(key).cloned().unwrap_or(Value::from(default));
    let axis = |v: &Value| -> Option<[usize; 2]> {
        match v {
            Value::Array(a) if a.len() == 2 => Some([as_usize(&a[0])?, as_usize(&a[1])?]),
            other => as_usize(other).map(|n| [n, n]),
        }
    };
    let parsed = match &value {
        Value::Array(a) if a.len() == 2 => axis(&a[0]).zip(axis(&a[1])).map(|(h, w)| [h, w]),
        other => as_usize(other).map(|n| [[n, n], [n, n]]),
    };
    parsed.ok_or_else(|| {
        c.error(format!(
            "{key} {value} is not N, (H, W) or ((T, B), (L, R))"
        ))
    })
}

/// The amounts as signed border sizes (`sign` −1 crops).
pub(crate) fn signed(a: [[usize; 2]; 2], sign: isize) -> [[isize; 2]; 2] {
    let s = |v: usize| (v.min(isize::MAX as usize) as isize) * sign;
    [[s(a[0][0]), s(a[0][1])], [s(a[1][0]), s(a[1][1])]]
}

impl ZeroPadding2d {
    /// Reads Keras's config.
    pub fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["padding", "data_format"])?;
        c.channels_last()?;
        Ok(Self(amounts(c, "padding", 1)?))
    }

    fn plan(&self, input: &[usize]) -> Result<Border2d> {
        Border2d::new(
            "zero_padding2d",
            hwc("zero_padding2d", input)?,
            signed(self.0, 1),
        )
    }
}

impl Layer for ZeroPadding2d {
    fn class_name(&self) -> &'static str {
        "ZeroPadding2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        Ok(self.plan(inputs[0])?.output.to_vec())
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let [[t, b], [l, r]] = self.0;
        vec![
            format!("height: out = {} + {t} + {b} = {}", inputs[0][0], output[0]),
            format!("width: out = {} + {l} + {r} = {}", inputs[0][1], output[1]),
            "params = 0".into(),
        ]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let plan = self.plan(&inputs[0].shape()[1..])?;
        reference::border2d(&plan, inputs[0])
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let plan = self.plan(l.input_shape(0))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_border2d(l.builder(), plan, x, out)
    }
}
