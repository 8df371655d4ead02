//! The single-op API: one Conv2D or MaxPooling2D on the device, its program recorded, run and
//! dropped (the Conv2D variant is chosen in `autotune/conv.rs`).

use super::kernels::{emit_conv2d, emit_pool2d, ConvVariant, ConvWeights, PoolKind};
use super::program::{Program, ProgramBuilder};
use super::Gpu;
use crate::error::{Error, Result};
use crate::specs::{Conv2dSpec, Pool2dSpec};
use crate::tensor::Tensor;

impl Gpu {
    /// Conv2D on the GPU: NHWC `input`, HWIO `kernel`, optional `(filters,)` bias, fused
    /// activation; the same contract as [`crate::reference::conv2d`]. Blocking wrapper of
    /// [`Gpu::conv2d_async`].
    #[cfg(feature = "native")]
    pub fn conv2d(
        &self,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        pollster::block_on(self.conv2d_async(spec, input, kernel, bias))
    }

    /// Conv2D on the GPU: NHWC `input`, HWIO `kernel`, optional `(filters,)` bias, fused
    /// activation; the same contract as [`crate::reference::conv2d`].
    pub async fn conv2d_async(
        &self,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
        let variant = self.conv_variant(spec, g.input)?;
        self.conv2d_with_async(variant, spec, input, kernel, bias)
            .await
    }

    /// [`Gpu::conv2d`] with a chosen kernel variant (for tests and benchmarks). Blocking
    /// wrapper of [`Gpu::conv2d_with_async`].
    #[cfg(feature = "native")]
    pub fn conv2d_with(
        &self,
        variant: ConvVariant,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        pollster::block_on(self.conv2d_with_async(variant, spec, input, kernel, bias))
    }

    /// [`Gpu::conv2d_async`] with a chosen kernel variant.
    pub async fn conv2d_with_async(
        &self,
        variant: ConvVariant,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
        let mut program = self
            .conv2d_program(variant, spec, g.input, kernel, bias)
            .await?;
        self.save_pipeline_cache();
        let y = program
            .run_async(&[input.data()], g.input[0])
            .await
            .map_err(Error::into_root)?;
        Tensor::new(g.output.to_vec(), y.into_iter().next().unwrap_or_default())
    }

    /// The program of one Conv2D with a chosen variant on inputs of shape `input` (checked by
    /// the caller), its weights uploaded.
    pub(super) async fn conv2d_program(
        &self,
        variant: ConvVariant,
        spec: &Conv2dSpec,
        input: [usize; 4],
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Program<'_>> {
        let g = spec.check(&input, kernel.shape(), bias.map(Tensor::shape))?;
        if !variant.fits(spec.filters, spec.groups, spec.filters, 0) {
            return Err(Error::InvalidConfig {
                op: "conv2d",
                reason: format!(
                    "the {variant:?} kernel does not support {} filters in {} groups",
                    spec.filters, spec.groups
                ),
            });
        }
        let [batch, h, w, c] = g.input;
        let mut b = ProgramBuilder::new(self);
        b.set_label("conv2d");
        let x = b.input(&[h, w, c])?;
        let out = b.value(&g.output[1..])?;
        let weights = ConvWeights {
            kernel: b.weight(
                "kernel",
                &variant.filter_layout(kernel.data(), spec.filters),
            )?,
            bias: match bias {
                Some(t) => Some(b.weight("bias", &variant.filter_layout(t.data(), spec.filters))?),
                None => None,
            },
        };
        emit_conv2d(&mut b, variant, spec, [h, w, c], x, weights, out, None)?;
        // One op: its errors need no layer context.
        b.build_async(&[x], &[out], batch)
            .await
            .map_err(Error::into_root)
    }
}

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
        self.save_pipeline_cache();
        let y = program
            .run_async(&[input.data()], batch)
            .await
            .map_err(Error::into_root)?;
        Tensor::new(g.output.to_vec(), y.into_iter().next().unwrap_or_default())
    }
}
