//! Keras's 1D and 3D `ZeroPadding`, `Cropping` and `UpSampling` layers by their shape rules
//! only: `summary` and `--explain` describe them, wgcnn has no kernels to run them
//! ([`Layer::computes`] is false). Each axis follows the 2D layers' planners
//! (`shape::plan_border`, `shape::plan_scale`).

use super::border2d::axis_amounts;
use super::config::Config;
use super::shapes::{axis_names, spatial};
use super::{described_only, described_only_line, Layer};
use crate::error::Result;
use crate::shape::{plan_border, plan_scale};
use crate::tensor::Tensor;

/// What the layer does to each spatial axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resize {
    /// `ZeroPadding1D/3D`: `(before, after)` zeros per axis.
    Pad(Vec<[usize; 2]>),
    /// `Cropping1D/3D`: `(before, after)` cells removed per axis.
    Crop(Vec<[usize; 2]>),
    /// `UpSampling1D/3D`: each cell repeated this many times per axis.
    Repeat(Vec<usize>),
}

/// A 1D or 3D padding, cropping or upsampling layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshapingNd {
    /// The Keras class name.
    pub class: &'static str,
    /// Per-axis amounts.
    pub resize: Resize,
}

/// Keras's amounts for `rank` axes (`ZeroPadding1D/3D`, `Cropping1D/3D`; default 1).
fn amounts(c: &Config<'_>, key: &str, rank: usize) -> Result<Vec<[usize; 2]>> {
    axis_amounts(c, key, rank, 1, "N or one (before, after) per axis")
}

impl ReshapingNd {
    /// Reads Keras's config of `class` (a `ZeroPadding`, `Cropping` or `UpSampling` layer of
    /// `rank` spatial axes).
    pub(crate) fn from_config(c: &Config<'_>, class: &'static str, rank: usize) -> Result<Self> {
        let resize = if class.starts_with("ZeroPadding") {
            c.check_keys(&["padding", "data_format"])?;
            Resize::Pad(amounts(c, "padding", rank)?)
        } else if class.starts_with("Cropping") {
            c.check_keys(&["cropping", "data_format"])?;
            Resize::Crop(amounts(c, "cropping", rank)?)
        } else {
            c.check_keys(&["size", "data_format"])?;
            let size = c.tuple("size", rank, Some(2))?;
            if size.contains(&0) {
                return Err(c.error("size must be at least 1"));
            }
            Resize::Repeat(size)
        };
        c.channels_last()?;
        Ok(Self { class, resize })
    }

    fn rank(&self) -> usize {
        match &self.resize {
            Resize::Pad(a) | Resize::Crop(a) => a.len(),
            Resize::Repeat(s) => s.len(),
        }
    }
}

impl Layer for ReshapingNd {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let (dims, c) = spatial(self.class, self.rank(), inputs[0])?;
        let names = axis_names(self.rank());
        let signed = |v: usize| v.min(isize::MAX as usize) as isize;
        let mut out = Vec::with_capacity(dims.len() + 1);
        for (i, &n) in dims.iter().enumerate() {
            out.push(match &self.resize {
                Resize::Pad(a) => {
                    plan_border(self.class, names[i], n, signed(a[i][0]), signed(a[i][1]))?.output
                }
                Resize::Crop(a) => {
                    plan_border(self.class, names[i], n, -signed(a[i][0]), -signed(a[i][1]))?.output
                }
                Resize::Repeat(s) => plan_scale(self.class, n, s[i])?,
            });
        }
        out.push(c);
        Ok(out)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let names = axis_names(self.rank());
        let mut lines: Vec<String> = inputs[0]
            .iter()
            .zip(output)
            .zip(names)
            .enumerate()
            .map(|(i, ((n, o), axis))| match &self.resize {
                Resize::Pad(a) => format!("{axis}: out = {n} + {} + {} = {o}", a[i][0], a[i][1]),
                Resize::Crop(a) => format!("{axis}: out = {n} − {} − {} = {o}", a[i][0], a[i][1]),
                Resize::Repeat(s) => format!("{axis}: out = {n} × {} = {o}", s[i]),
            })
            .collect();
        lines.push("params = 0".into());
        lines.push(described_only_line(self.class));
        lines
    }

    fn reference(&self, _inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        Err(described_only(self.class))
    }

    fn computes(&self) -> bool {
        false
    }
}
