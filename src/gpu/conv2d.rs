use std::borrow::Cow;

use super::{autotune, Gpu, Input, Kernel};
use crate::error::{Error, Result};
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

/// Output positions per invocation in `shaders/conv2d_blocked.wgsl` (`RM`).
pub(super) const BLOCK_ROWS: usize = 4;
/// Output positions per invocation in `shaders/conv2d_wide.wgsl` (`RM`).
pub(super) const WIDE_ROWS: usize = 8;
/// Filters per invocation in `shaders/conv2d_wide.wgsl` (`4 · FN4`).
pub(super) const WIDE_FILTERS: usize = 16;

/// The GPU kernels that compute Conv2D. All give the same results (up to float32 summation
/// order); which is fastest depends on the adapter and the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvVariant {
    /// One output per invocation (`shaders/conv2d.wgsl`): any shape.
    Direct,
    /// Implicit GEMM, 4 positions × 4 filters per invocation, vec4 kernel loads
    /// (`shaders/conv2d_blocked.wgsl`): needs `filters % 4 == 0`. Spreads a layer over 8× as
    /// many invocations as [`ConvVariant::Wide`], which wins when there are few output positions
    /// (Dense on a batch of one or two).
    Blocked,
    /// Implicit GEMM, 8 positions × 16 filters per invocation, 4 input channels per load when
    /// `in_channels % 4 == 0` (`shaders/conv2d_wide.wgsl`): any shape (the kernel's filter axis
    /// is padded to a multiple of 4 on upload). Made for adapters where loads dominate
    /// (lavapipe and llvmpipe run each storage load as a loop over SIMD lanes): it loads a
    /// quarter as often per multiply-add as the blocked kernel.
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

    /// Whether this variant can compute a layer with `filters` output channels.
    pub fn supports(self, filters: usize) -> bool {
        match self {
            ConvVariant::Direct | ConvVariant::Wide => true,
            ConvVariant::Blocked | ConvVariant::Tiled => filters.is_multiple_of(4),
        }
    }

    /// The variant wgcnn uses for `filters` output channels when it does not autotune: the
    /// wide register-blocked kernel, which applies to every shape and is the fastest on
    /// lavapipe, the only adapter measured so far.
    pub fn choose(filters: usize) -> Self {
        if ConvVariant::Wide.supports(filters) {
            ConvVariant::Wide
        } else {
            ConvVariant::Direct
        }
    }

    /// The compiled kernel for this variant on inputs with `in_channels` channels and
    /// `filters` output channels.
    pub(super) fn kernel(self, in_channels: usize, filters: usize) -> Kernel {
        let (in4, out4) = (in_channels.is_multiple_of(4), filters.is_multiple_of(4));
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
    pub(super) fn filter_layout(self, data: &[f32], filters: usize) -> Cow<'_, [f32]> {
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
    /// activation; the same contract as [`crate::reference::conv2d`].
    pub fn conv2d(
        &self,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d";
        let input4 = crate::shape::nhwc(OP, input.shape())?;
        let variant = self.conv_variant(spec, input4)?;
        self.conv2d_with(variant, spec, input, kernel, bias)
    }

    /// The kernel variant for `spec` on inputs of shape `input`: the autotuner's choice
    /// (measured once per adapter and shape, on zeros of the same shapes), or
    /// [`ConvVariant::choose`] when autotuning is off.
    pub(super) fn conv_variant(&self, spec: &Conv2dSpec, input: [usize; 4]) -> Result<ConvVariant> {
        let mut candidates: Vec<ConvVariant> = ConvVariant::ALL
            .into_iter()
            .filter(|v| v.supports(spec.filters))
            .collect();
        let info = self.adapter_info();
        // The candidates are part of the key: a choice made before a variant existed is stale.
        let key = format!(
            "{} | {:?} | {} | {candidates:?} | conv2d in {:?} kernel {:?} filters {} strides {:?} dilation {:?} {} bias {}",
            info.name,
            info.backend,
            info.driver_info,
            input,
            spec.kernel_size,
            spec.filters,
            spec.strides,
            spec.dilation,
            spec.padding,
            spec.use_bias
        );
        // The untuned choice first: it is what the tuner takes when tuning is off.
        let preferred = ConvVariant::choose(spec.filters);
        candidates.sort_by_key(|v| *v != preferred);
        let zeros = |shape: Vec<usize>| Tensor::from_fn(shape, |_| 0.0);
        let x = zeros(input.to_vec())?;
        let k = zeros(spec.kernel_shape(input[3]).to_vec())?;
        let b = spec
            .use_bias
            .then(|| zeros(vec![spec.filters]))
            .transpose()?;
        Ok(self.tuner.choose(&key, &candidates, |variant| {
            autotune::time_twice(|| self.conv2d_with(variant, spec, &x, &k, b.as_ref()).is_ok())
        }))
    }

    /// The autotuner's remembered choices: `(adapter and shape, variant)`.
    pub fn autotune_choices(&self) -> Vec<(String, ConvVariant)> {
        self.tuner.choices()
    }

    /// [`Gpu::conv2d`] with a chosen kernel variant (for tests and benchmarks).
    pub fn conv2d_with(
        &self,
        variant: ConvVariant,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d";
        let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
        if !variant.supports(spec.filters) {
            return Err(Error::InvalidConfig {
                op: OP,
                reason: format!(
                    "the {variant:?} kernel does not support {} filters",
                    spec.filters
                ),
            });
        }
        let kernel_id = variant.kernel(g.input[3], spec.filters);
        let mut d = self.window_dispatch(OP, &g, kernel_id)?;
        d.params.has_bias = u32::from(bias.is_some());
        d.params.activation = spec.activation.shader_code();
        // A binding cannot be empty (and the blocked kernel reads it as vec4): without a bias
        // the shaders never read this placeholder.
        let no_bias = [0.0f32; 4];
        let kernel_data = variant.filter_layout(kernel.data(), spec.filters);
        let bias_data = match bias {
            Some(b) => variant.filter_layout(b.data(), spec.filters),
            None => Cow::Borrowed(&no_bias[..]),
        };
        let inputs = [
            Input {
                name: "input",
                data: input.data(),
            },
            Input {
                name: "kernel",
                data: &kernel_data,
            },
            Input {
                name: "bias",
                data: &bias_data,
            },
        ];
        let params = bytemuck::bytes_of(&d.params);
        let total = g.output.iter().product();
        let out = self.run(OP, kernel_id, params, &inputs, total, d.grid)?;
        Tensor::new(g.output.to_vec(), out)
    }
}
