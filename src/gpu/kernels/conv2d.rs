//! Direct Conv2D (`conv2d.wgsl`), and what the Conv2D kernel family shares: the variants and
//! the choice between them, and the emitter (Conv2D, and Dense as a 1×1 convolution over rows,
//! on any variant). Their `KernelDef`s come from `window::conv_def`.

use std::borrow::Cow;
use std::sync::Arc;

use super::super::kernel::{Coverage, KernelDef};
use super::super::program::{Binding, ProgramBuilder, Value, Weight};
use super::window::{conv2d_def, dispatch, Geometry};
use super::Kernel;
use crate::error::{Error, Result};
use crate::specs::Conv2dSpec;

/// One output per invocation.
pub(super) const DIRECT: KernelDef = conv2d_def(
    "conv2d",
    wgsl!("common.wgsl", "window.wgsl", "activation.wgsl", "conv2d.wgsl"),
    "main",
    &[],
    Coverage::PerValue,
);


/// The GPU kernels that compute Conv2D. All give the same results (up to float32 summation
/// order); which is fastest depends on the adapter and the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConvVariant {
    /// One output per invocation (`conv2d.wgsl`): any shape, and the only variant with
    /// grouped convolution.
    Direct,
    /// Implicit GEMM, 4 positions × 4 filters per invocation, vec4 kernel loads
    /// (`conv2d_blocked.wgsl`): needs `filters % 4 == 0`. Spreads a layer over 8× as
    /// many invocations as [`ConvVariant::Wide`], which wins when there are few output positions
    /// (Dense on a batch of one or two).
    Blocked,
    /// Implicit GEMM, 8 positions × 16 filters per invocation, 4 input channels per load when
    /// `in_channels % 4 == 0` (`conv2d_wide.wgsl`): any filter count (the kernel's
    /// filter axis is padded to a multiple of 4 on upload). Made for adapters where loads
    /// dominate (lavapipe and llvmpipe run each storage load as a loop over SIMD lanes).
    Wide,
    /// Implicit GEMM with 32 × 32 output tiles per workgroup and the reduction staged in
    /// workgroup memory (`conv2d_tiled.wgsl`): needs `filters % 4 == 0`. Made for
    /// real GPUs; on lavapipe the wide and blocked kernels win.
    Tiled,
    /// Implicit GEMM with 64 × 64 output tiles per workgroup, 8 positions × 8 filters per
    /// invocation, the next reduction slice loaded while the current one is multiplied
    /// (`conv2d_tiled64.wgsl`): needs `filters % 4 == 0`. The shape of fast GPU GEMMs, for
    /// large layers on real GPUs (a layer smaller than a tile wastes most of it).
    Tiled64,
}

impl ConvVariant {
    /// Every variant.
    pub const ALL: [ConvVariant; 5] = [
        ConvVariant::Direct,
        ConvVariant::Blocked,
        ConvVariant::Wide,
        ConvVariant::Tiled,
        ConvVariant::Tiled64,
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
            ConvVariant::Blocked | ConvVariant::Tiled | ConvVariant::Tiled64 => {
                groups == 1 && vec4
            }
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
            ConvVariant::Tiled64 => Kernel::Conv2dTiled64,
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

/// A convolution's uploaded weights, in the chosen variant's layout
/// ([`ConvVariant::filter_layout`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvWeights {
    pub kernel: Weight,
    pub bias: Option<Weight>,
}

/// Records a Conv2D of `spec` on per-example images `hwc` from `x` into `out` (which may be a
/// channel slice), with `variant`'s kernel; `residual`, a dense value of the output's shape,
/// is added before the activation (a fused `Add`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_conv2d(
    b: &mut ProgramBuilder<'_>,
    variant: ConvVariant,
    spec: &Conv2dSpec,
    hwc: [usize; 3],
    x: Value,
    weights: ConvWeights,
    out: Value,
    residual: Option<Value>,
) -> Result<()> {
    let (offset, pitch) = b.layout(out);
    if let Some(r) = residual {
        if !b.is_dense(r) || b.shape(r) != b.shape(out) {
            return Err(Error::Internal {
                op: "conv2d",
                message: format!(
                    "a fused residual must be a dense tensor of the output's shape {:?}, not {:?}",
                    b.shape(out),
                    b.shape(r)
                ),
            });
        }
    }
    if !variant.fits(spec.filters, spec.groups, pitch, offset) {
        return Err(Error::InvalidConfig {
            op: "conv2d",
            reason: format!(
                "the {variant:?} kernel does not support {} filters in {} groups written at \
                 channel {offset} of {pitch}",
                spec.filters, spec.groups
            ),
        });
    }
    let kernel = variant.kernel(hwc[2], spec.filters, pitch, offset);
    let bias = match weights.bias {
        Some(w) => w,
        None => b.unused()?,
    };
    let residual_binding = match residual {
        Some(r) => Binding::Read(r),
        None => Binding::Weight(b.unused()?),
    };
    let spec = *spec;
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let [h, w, c] = hwc;
    // A folded ZeroPadding2D: `hwc` is the padded shape, the window's padding grows by it.
    let padding = b.padding(x);
    let params = Arc::new(move |batch: usize| {
        let g = spec.plan([batch, h, w, c])?;
        dispatch("conv2d", kernel, &Geometry::unpadded(&g, padding), per_dim, |p| {
            p.has_bias = u32::from(weights.bias.is_some());
            p.activation = spec.activation.shader_code();
            p.group_in = (c / spec.groups) as u32;
            p.group_out = (spec.filters / spec.groups) as u32;
            p.out_pitch = pitch as u32;
            p.out_offset = offset as u32;
            p.has_residual = u32::from(residual.is_some());
        })
    });
    b.dispatch(
        kernel,
        vec![
            Binding::Read(x),
            Binding::Weight(weights.kernel),
            Binding::Weight(bias),
            Binding::Write(out),
            residual_binding,
        ],
        params,
    );
    Ok(())
}
