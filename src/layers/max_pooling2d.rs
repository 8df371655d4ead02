//! Keras `MaxPooling2D`: padded cells never win; NaN does.

use super::config::Config;
use super::shapes::hwc;
use super::{explain, Layer};
use crate::error::Result;
use crate::gpu::kernels::{emit_pool2d, PoolKind};
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::Pool2dSpec;
use crate::tensor::Tensor;

/// `MaxPooling2D(pool_size, strides, padding)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxPooling2d(pub Pool2dSpec);

/// Reads a pooling layer's config (`pool_size`, `strides` defaulting to it, `padding`).
pub(crate) fn pool_spec(c: &Config<'_>) -> Result<Pool2dSpec> {
    c.check_keys(&["pool_size", "strides", "padding", "data_format"])?;
    c.channels_last()?;
    let pool = c.pair("pool_size", Some([2, 2]))?;
    let spec = Pool2dSpec::new(pool)
        .strides(c.pair("strides", Some(pool))?)
        .padding(c.padding()?);
    spec.validate()?;
    Ok(spec)
}

/// A pooling layer's output shape, explanation and lowering, shared by max and average.
pub(crate) fn pool_output(
    spec: &Pool2dSpec,
    op: &'static str,
    input: &[usize],
) -> Result<Vec<usize>> {
    let [h, w, c] = hwc(op, input)?;
    Ok(spec.output_shape([1, h, w, c])?[1..].to_vec())
}

pub(crate) fn pool_explain(spec: &Pool2dSpec, input: &[usize], output: &[usize]) -> Vec<String> {
    let mut lines = explain::window(
        input,
        output,
        spec.pool_size,
        spec.strides,
        [1, 1],
        spec.padding,
    );
    lines.push("params = 0".into());
    lines
}

pub(crate) fn pool_lower(
    spec: &Pool2dSpec,
    kind: PoolKind,
    op: &'static str,
    l: &mut Lowering<'_, '_>,
) -> Result<()> {
    let shape = hwc(op, l.input_shape(0))?;
    let x = l.input(0);
    let out = l.output()?;
    emit_pool2d(l.builder(), kind, spec, shape, x, out)
}

impl MaxPooling2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        Ok(Self(pool_spec(c)?))
    }
}

impl Layer for MaxPooling2d {
    fn class_name(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        pool_output(&self.0, "max_pool2d", inputs[0])
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        pool_explain(&self.0, inputs[0], output)
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        reference::max_pool2d(&self.0, inputs[0])
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        crate::cpu::max_pool2d(&self.0, inputs[0])
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        pool_lower(&self.0, PoolKind::Max, "max_pool2d", l)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }
}
