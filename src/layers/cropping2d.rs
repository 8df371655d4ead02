//! Keras `Cropping2D`: rows and columns removed from each image's borders. The same planner
//! (`shape::plan_border`, with negative amounts) and kernel as ZeroPadding2D.

use super::config::Config;
use super::shapes::hwc;
use super::zero_padding2d::{amounts, signed};
use super::Layer;
use crate::error::Result;
use crate::gpu::ops::emit_border2d;
use crate::gpu::Lowering;
use crate::reference;
use crate::shape::Border2d;
use crate::tensor::Tensor;

/// `Cropping2D(((top, bottom), (left, right)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cropping2d(pub [[usize; 2]; 2]);

impl Cropping2d {
    /// Reads Keras's config.
    pub fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["cropping", "data_format"])?;
        c.channels_last()?;
        Ok(Self(amounts(c, "cropping", 0)?))
    }

    fn plan(&self, input: &[usize]) -> Result<Border2d> {
        Border2d::new("cropping2d", hwc("cropping2d", input)?, signed(self.0, -1))
    }
}

impl Layer for Cropping2d {
    fn class_name(&self) -> &'static str {
        "Cropping2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        Ok(self.plan(inputs[0])?.output.to_vec())
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let [[t, b], [l, r]] = self.0;
        vec![
            format!("height: out = {} − {t} − {b} = {}", inputs[0][0], output[0]),
            format!("width: out = {} − {l} − {r} = {}", inputs[0][1], output[1]),
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
