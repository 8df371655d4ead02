//! The single-op MaxPooling2D API.

use super::ops::{emit_pool2d, PoolKind};
use super::program::ProgramBuilder;
use super::Gpu;
use crate::error::{Error, Result};
use crate::ops::Pool2dSpec;
use crate::tensor::Tensor;

impl Gpu {
    /// MaxPooling2D on the GPU; the same contract as [`crate::reference::max_pool2d`].
    /// Blocking wrapper of [`Gpu::max_pool2d_async`].
    #[cfg(feature = "native")]
    pub fn max_pool2d(&self, spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
        pollster::block_on(self.max_pool2d_async(spec, input))
    }

    /// MaxPooling2D on the GPU; the same contract as [`crate::reference::max_pool2d`].
    pub async fn max_pool2d_async(&self, spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
        let g = spec.check(input.shape())?;
        let [batch, h, w, c] = g.input;
        let mut b = ProgramBuilder::new(self);
        b.set_label("max_pool2d");
        let x = b.input(&[h, w, c])?;
        let out = b.value(&g.output[1..])?;
        emit_pool2d(&mut b, PoolKind::Max, spec, [h, w, c], x, out)?;
        // One op: its errors need no layer context.
        let mut program = b
            .build_async(&[x], &[out], batch)
            .await
            .map_err(Error::into_root)?;
        let y = program
            .run_async(&[input.data()], batch)
            .await
            .map_err(Error::into_root)?;
        Tensor::new(g.output.to_vec(), y.into_iter().next().unwrap_or_default())
    }
}
