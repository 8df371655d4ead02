use super::{autotune, Gpu, Input, Kernel};
use crate::error::{Error, Result};
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

/// Output positions per invocation in `shaders/conv2d_blocked.wgsl` (`RM`).
pub(super) const BLOCK_ROWS: usize = 4;

/// The GPU kernels that compute Conv2D. All give the same results (up to float32 summation
/// order); which is fastest depends on the adapter and the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvVariant {
    /// One output per invocation (`shaders/conv2d.wgsl`): any shape.
    Direct,
    /// Implicit GEMM, 4 positions × 4 filters per invocation, vec4 loads
    /// (`shaders/conv2d_blocked.wgsl`): needs `filters % 4 == 0`.
    Blocked,
    /// Implicit GEMM with 32 × 32 output tiles per workgroup and the reduction staged in
    /// workgroup memory (`shaders/conv2d_tiled.wgsl`): needs `filters % 4 == 0`. Made for
    /// real GPUs; on lavapipe the blocked kernel wins.
    Tiled,
}

impl ConvVariant {
    /// Every variant.
    pub const ALL: [ConvVariant; 3] = [
        ConvVariant::Direct,
        ConvVariant::Blocked,
        ConvVariant::Tiled,
    ];

    /// Whether this variant can compute a layer with `filters` output channels.
    pub fn supports(self, filters: usize) -> bool {
        match self {
            ConvVariant::Direct => true,
            ConvVariant::Blocked | ConvVariant::Tiled => filters.is_multiple_of(4),
        }
    }

    /// The variant wgcnn uses for `filters` output channels when it does not autotune: the
    /// register-blocked kernel wherever it applies (the fastest on lavapipe, the only adapter
    /// measured so far).
    pub fn choose(filters: usize) -> Self {
        if ConvVariant::Blocked.supports(filters) {
            ConvVariant::Blocked
        } else {
            ConvVariant::Direct
        }
    }

    pub(super) fn kernel(self) -> Kernel {
        match self {
            ConvVariant::Direct => Kernel::Conv2d,
            ConvVariant::Blocked => Kernel::Conv2dBlocked,
            ConvVariant::Tiled => Kernel::Conv2dTiled,
        }
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
        // The untuned choice first: it is what the tuner takes when tuning is off.
        let preferred = ConvVariant::choose(spec.filters);
        let mut candidates: Vec<ConvVariant> = ConvVariant::ALL
            .into_iter()
            .filter(|v| v.supports(spec.filters))
            .collect();
        candidates.sort_by_key(|v| *v != preferred);
        let info = self.adapter_info();
        let key = format!(
            "{} | {:?} | {} | conv2d in {:?} kernel {:?} filters {} strides {:?} dilation {:?} {} bias {}",
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
        let mut d = self.window_dispatch(OP, &g, variant.kernel())?;
        d.params.has_bias = u32::from(bias.is_some());
        d.params.activation = spec.activation.shader_code();
        // A binding cannot be empty (and the blocked kernel reads it as vec4): without a bias
        // the shaders never read this placeholder.
        let no_bias = [0.0f32; 4];
        let inputs = [
            Input {
                name: "input",
                data: input.data(),
            },
            Input {
                name: "kernel",
                data: kernel.data(),
            },
            Input {
                name: "bias",
                data: bias.map_or(&no_bias[..], Tensor::data),
            },
        ];
        let params = bytemuck::bytes_of(&d.params);
        let total = g.output.iter().product();
        let out = self.run(OP, variant.kernel(), params, &inputs, total, d.grid)?;
        Tensor::new(g.output.to_vec(), out)
    }
}
