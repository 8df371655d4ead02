//! Conv2D's kernel variants, the choice between them, and the single-op API.

use std::borrow::Cow;

#[cfg(feature = "native")]
use super::autotune;
use super::ops::{emit_conv2d, ConvWeights};
use super::program::ProgramBuilder;
use super::{Gpu, Kernel};
use crate::error::{Error, Result};
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

/// The GPU kernels that compute Conv2D. All give the same results (up to float32 summation
/// order); which is fastest depends on the adapter and the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConvVariant {
    /// One output per invocation (`shaders/conv2d.wgsl`): any shape, and the only variant with
    /// grouped convolution.
    Direct,
    /// Implicit GEMM, 4 positions × 4 filters per invocation, vec4 kernel loads
    /// (`shaders/conv2d_blocked.wgsl`): needs `filters % 4 == 0`. Spreads a layer over 8× as
    /// many invocations as [`ConvVariant::Wide`], which wins when there are few output positions
    /// (Dense on a batch of one or two).
    Blocked,
    /// Implicit GEMM, 8 positions × 16 filters per invocation, 4 input channels per load when
    /// `in_channels % 4 == 0` (`shaders/conv2d_wide.wgsl`): any filter count (the kernel's
    /// filter axis is padded to a multiple of 4 on upload). Made for adapters where loads
    /// dominate (lavapipe and llvmpipe run each storage load as a loop over SIMD lanes).
    Wide,
    /// Implicit GEMM with 32 × 32 output tiles per workgroup and the reduction staged in
    /// workgroup memory (`shaders/conv2d_tiled.wgsl`): needs `filters % 4 == 0`. Made for
    /// real GPUs; on lavapipe the wide and blocked kernels win.
    Tiled,
}

impl ConvVariant {
    /// Every variant.
    pub const ALL: [ConvVariant; 4] = [
        ConvVariant::Direct,
        ConvVariant::Blocked,
        ConvVariant::Wide,
        ConvVariant::Tiled,
    ];

    /// Whether this variant can compute an ungrouped convolution with `filters` output
    /// channels into a tensor of its own.
    pub fn supports(self, filters: usize) -> bool {
        self.fits(filters, 1, filters, 0)
    }

    /// Whether this variant can compute `filters` output channels in `groups` groups, written
    /// into rows of `pitch` floats at channel `offset`.
    pub(crate) fn fits(self, filters: usize, groups: usize, pitch: usize, offset: usize) -> bool {
        let vec4 = filters.is_multiple_of(4) && pitch.is_multiple_of(4) && offset.is_multiple_of(4);
        match self {
            ConvVariant::Direct => true,
            ConvVariant::Wide => groups == 1,
            ConvVariant::Blocked | ConvVariant::Tiled => groups == 1 && vec4,
        }
    }

    /// The variant wgcnn uses when it does not autotune: the wide kernel (fastest on lavapipe,
    /// the only adapter measured so far) wherever it applies.
    pub fn choose(spec: &Conv2dSpec) -> Self {
        if ConvVariant::Wide.fits(spec.filters, spec.groups, spec.filters, 0) {
            ConvVariant::Wide
        } else {
            ConvVariant::Direct
        }
    }

    /// The compiled kernel for this variant on `in_channels` input channels and `filters`
    /// output channels written into rows of `pitch` at `offset`.
    pub(crate) fn kernel(
        self,
        in_channels: usize,
        filters: usize,
        pitch: usize,
        offset: usize,
    ) -> Kernel {
        let in4 = in_channels.is_multiple_of(4);
        let out4 = filters.is_multiple_of(4) && pitch.is_multiple_of(4) && offset.is_multiple_of(4);
        match self {
            ConvVariant::Direct => Kernel::Conv2d,
            ConvVariant::Blocked => Kernel::Conv2dBlocked,
            ConvVariant::Wide => match (in4, out4) {
                (true, true) => Kernel::Conv2dWide,
                (false, true) => Kernel::Conv2dWideIn1,
                (true, false) => Kernel::Conv2dWideOut1,
                (false, false) => Kernel::Conv2dWideIn1Out1,
            },
            ConvVariant::Tiled => Kernel::Conv2dTiled,
        }
    }

    /// The kernel (HWIO) or bias values as this variant reads them: the wide kernel reads whole
    /// vec4s of filters, so its filter axis (the last) is padded with zeros to a multiple of 4.
    pub fn filter_layout(self, data: &[f32], filters: usize) -> Cow<'_, [f32]> {
        let padded = filters.next_multiple_of(4);
        if self != ConvVariant::Wide || padded == filters || filters == 0 {
            return Cow::Borrowed(data);
        }
        let zeros = std::iter::repeat_n(0.0, padded - filters);
        Cow::Owned(
            data.chunks(filters)
                .flat_map(|row| row.iter().copied().chain(zeros.clone()))
                .collect(),
        )
    }
}

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

    /// The kernel variant for `spec` on inputs of shape `input`: the autotuner's choice
    /// (measured once per adapter and shape, on zeros of the same shapes), or
    /// [`ConvVariant::choose`] when autotuning is off.
    ///
    /// Measuring runs each candidate and blocks until it is done, so it is native-only: an
    /// async caller on native ([`Gpu::conv2d_async`], [`crate::Model::compile_async`]) blocks
    /// its thread while a new shape is tuned.
    pub fn conv_variant(&self, spec: &Conv2dSpec, input: [usize; 4]) -> Result<ConvVariant> {
        let filters = spec.filters;
        let mut candidates: Vec<ConvVariant> = ConvVariant::ALL
            .into_iter()
            .filter(|v| v.fits(filters, spec.groups, filters, 0))
            .collect();
        // The untuned choice first: it is what the tuner takes when tuning is off.
        let preferred = ConvVariant::choose(spec);
        candidates.sort_by_key(|v| *v != preferred);
        // Without `native` the tuner is always off (see [`crate::GpuOptions::autotune`]).
        #[cfg(feature = "native")]
        if candidates.len() >= 2 && self.tuner.enabled() {
            return self.tuned_variant(spec, input, &candidates);
        }
        #[cfg(not(feature = "native"))]
        let _ = input;
        Ok(candidates.first().copied().unwrap_or(ConvVariant::Direct))
    }

    /// The tuner's choice among `candidates` (at least two, the untuned one first), remembered
    /// or measured now.
    #[cfg(feature = "native")]
    fn tuned_variant(
        &self,
        spec: &Conv2dSpec,
        input: [usize; 4],
        candidates: &[ConvVariant],
    ) -> Result<ConvVariant> {
        // The candidates are part of the key, in their fixed order: a choice made before a
        // variant existed is stale.
        let listed: Vec<ConvVariant> = ConvVariant::ALL
            .into_iter()
            .filter(|v| candidates.contains(v))
            .collect();
        let info = self.adapter_info();
        let key = format!(
            "{} | {:?} | {} | {listed:?} | conv2d in {:?} kernel {:?} filters {} strides {:?} dilation {:?} groups {} {} bias {}",
            info.name,
            info.backend,
            info.driver_info,
            input,
            spec.kernel_size,
            spec.filters,
            spec.strides,
            spec.dilation,
            spec.groups,
            spec.padding,
            spec.use_bias
        );
        let zeros = |shape: Vec<usize>| Tensor::from_fn(shape, |_| 0.0);
        let x = zeros(input.to_vec())?;
        let k = zeros(spec.kernel_shape(input[3]).to_vec())?;
        let b = spec
            .use_bias
            .then(|| zeros(vec![spec.filters]))
            .transpose()?;
        Ok(self.tuner.choose(&key, candidates, |variant| {
            autotune::time_twice(|| self.conv2d_with(variant, spec, &x, &k, b.as_ref()).is_ok())
        }))
    }

    /// The autotuner's remembered choices: `(adapter and shape, variant)`.
    pub fn autotune_choices(&self) -> Vec<(String, ConvVariant)> {
        self.tuner.choices()
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
        emit_conv2d(&mut b, variant, spec, [h, w, c], x, weights, out)?;
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
