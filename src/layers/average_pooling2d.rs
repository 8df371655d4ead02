//! Keras `AveragePooling2D`: 'same' averages over the real cells of each window only.

use super::config::Config;
use super::max_pooling2d::{pool_explain, pool_lower, pool_output, pool_spec};
use super::Layer;
use crate::error::Result;
use crate::gpu::kernels::PoolKind;
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::Pool2dSpec;
use crate::tensor::Tensor;

/// `AveragePooling2D(pool_size, strides, padding)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AveragePooling2d(pub Pool2dSpec);

impl AveragePooling2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        Ok(Self(pool_spec(c)?))
    }
}

impl Layer for AveragePooling2d {
    fn class_name(&self) -> &'static str {
        "AveragePooling2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        pool_output(&self.0, "average_pool2d", inputs[0])
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        pool_explain(&self.0, inputs[0], output)
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        reference::avg_pool2d(&self.0, inputs[0])
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        crate::cpu::avg_pool2d(&self.0, inputs[0])
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        pool_lower(&self.0, PoolKind::Average, "average_pool2d", l)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }
}
