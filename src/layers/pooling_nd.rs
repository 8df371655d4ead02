//! Keras's 1D and 3D pooling — `MaxPooling1D/3D`, `AveragePooling1D/3D` and their global
//! forms — by their shape rules only: `summary` and `--explain` describe them, wgcnn has no
//! kernels to run them ([`Layer::computes`] is false). Windows follow `shape::plan_axis`, as
//! the 2D pooling layers do.

use super::config::Config;
use super::shapes::{axis_names, spatial as split};
use super::{described_only, described_only_line, explain, Layer};
use crate::error::Result;
use crate::shape::{plan_axis, Padding};
use crate::tensor::Tensor;

/// `MaxPooling1D`, `AveragePooling3D`, ...: a window per spatial axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolingNd {
    /// The Keras class name.
    pub class: &'static str,
    /// Window per spatial axis (1 or 3 of them).
    pub pool: Vec<usize>,
    /// Strides per axis (Keras's default: the window).
    pub strides: Vec<usize>,
    /// `valid` or `same`.
    pub padding: Padding,
}

impl PoolingNd {
    /// Reads Keras's config of `class`, pooling over `rank` spatial axes.
    pub(crate) fn from_config(c: &Config<'_>, class: &'static str, rank: usize) -> Result<Self> {
        c.check_keys(&["pool_size", "strides", "padding", "data_format"])?;
        c.channels_last()?;
        let pool = c.tuple("pool_size", rank, Some(2))?;
        let strides = match c.get("strides") {
            None => pool.clone(),
            Some(_) => c.tuple("strides", rank, None)?,
        };
        if pool.contains(&0) || strides.contains(&0) {
            return Err(c.error("pool_size and strides must be at least 1"));
        }
        Ok(Self {
            class,
            pool,
            strides,
            padding: c.padding()?,
        })
    }
}

impl Layer for PoolingNd {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let rank = self.pool.len();
        let (spatial, c) = split(self.class, rank, inputs[0])?;
        let names = axis_names(rank);
        let mut out = Vec::with_capacity(rank + 1);
        for (i, &n) in spatial.iter().enumerate() {
            let plan = plan_axis(
                self.class,
                names[i],
                n,
                self.pool[i],
                self.strides[i],
                1,
                self.padding,
            )?;
            out.push(plan.output);
        }
        out.push(c);
        Ok(out)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let rank = self.pool.len();
        let mut lines = explain::window_axes(
            axis_names(rank),
            inputs[0],
            output,
            &self.pool,
            &self.strides,
            &vec![1; rank],
            self.padding,
        );
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

/// `GlobalMaxPooling1D`, `GlobalAveragePooling3D`, ...: one window over all spatial axes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalPoolingNd {
    /// The Keras class name.
    pub class: &'static str,
    /// Spatial axes (1 or 3).
    pub rank: usize,
    /// Keep the spatial axes as 1s.
    pub keepdims: bool,
}

impl GlobalPoolingNd {
    /// Reads Keras's config of `class`, pooling over `rank` spatial axes.
    pub(crate) fn from_config(c: &Config<'_>, class: &'static str, rank: usize) -> Result<Self> {
        c.check_keys(&["data_format", "keepdims"])?;
        c.channels_last()?;
        Ok(Self {
            class,
            rank,
            keepdims: c.bool("keepdims", false)?,
        })
    }
}

impl Layer for GlobalPoolingNd {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let (_, c) = split(self.class, self.rank, inputs[0])?;
        let mut out = if self.keepdims {
            vec![1; self.rank]
        } else {
            Vec::new()
        };
        out.push(c);
        Ok(out)
    }

    fn explain(&self, _inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        vec![
            format!(
                "one value per channel over all {} spatial axes{}: out = {output:?}; params = 0",
                self.rank,
                if self.keepdims { ", kept as 1s" } else { "" }
            ),
            described_only_line(self.class),
        ]
    }

    fn reference(&self, _inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        Err(described_only(self.class))
    }

    fn computes(&self) -> bool {
        false
    }
}
