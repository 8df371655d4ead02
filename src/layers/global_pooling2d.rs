//! Keras `GlobalMaxPooling2D` and `GlobalAveragePooling2D`: one window over the whole image.

use super::config::Config;
use super::shapes::hwc;
use super::Layer;
use crate::error::Result;
use crate::gpu::kernels::{emit_global_pool2d, PoolKind};
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::Pool2dSpec;
use crate::tensor::Tensor;

/// Which value a global pooling keeps per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    /// The maximum (NaN if any value is NaN).
    Max,
    /// The mean.
    Average,
}

/// `GlobalMaxPooling2D` / `GlobalAveragePooling2D(keepdims)`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalPooling2d {
    /// Max or average.
    pub reduce: Reduce,
    /// Keep the output as `(1, 1, C)` instead of `(C,)`.
    pub keepdims: bool,
}

impl GlobalPooling2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>, reduce: Reduce) -> Result<Self> {
        c.check_keys(&["data_format", "keepdims"])?;
        c.channels_last()?;
        Ok(Self {
            reduce,
            keepdims: c.bool("keepdims", false)?,
        })
    }
}

impl Layer for GlobalPooling2d {
    fn class_name(&self) -> &'static str {
        match self.reduce {
            Reduce::Max => "GlobalMaxPooling2D",
            Reduce::Average => "GlobalAveragePooling2D",
        }
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let [_, _, c] = hwc("global_pool2d", inputs[0])?;
        Ok(if self.keepdims {
            vec![1, 1, c]
        } else {
            vec![c]
        })
    }

    fn explain(&self, inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let i = inputs[0];
        vec![
            format!(
                "one value per channel over {} × {}: out = {}",
                i.first().unwrap_or(&0),
                i.get(1).unwrap_or(&0),
                i.get(2).unwrap_or(&0)
            ),
            "params = 0".into(),
        ]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let [n, h, w, c] = crate::shape::nhwc("global_pool2d", x.shape())?;
        let spec = Pool2dSpec::new([h, w]);
        let y = match self.reduce {
            Reduce::Max => reference::max_pool2d(&spec, x)?,
            Reduce::Average => reference::avg_pool2d(&spec, x)?,
        };
        y.reshape(if self.keepdims {
            vec![n, 1, 1, c]
        } else {
            vec![n, c]
        })
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let [n, h, w, c] = crate::shape::nhwc("global_pool2d", x.shape())?;
        let spec = Pool2dSpec::new([h, w]);
        let y = match self.reduce {
            Reduce::Max => crate::cpu::max_pool2d(&spec, x)?,
            Reduce::Average => crate::cpu::avg_pool2d(&spec, x)?,
        };
        y.reshape(if self.keepdims {
            vec![n, 1, 1, c]
        } else {
            vec![n, c]
        })
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let [h, w, c] = hwc("global_pool2d", l.input_shape(0))?;
        let x = l.input(0);
        let out = l.output()?;
        let kind = match self.reduce {
            Reduce::Max => PoolKind::Max,
            Reduce::Average => PoolKind::Average,
        };
        emit_global_pool2d(l.builder(), kind, [h, w, c], x, out)
    }
}
