//! DepthwiseConv2D (`depthwise_conv2d.wgsl`): its own kernel (as an implicit GEMM it would be a
//! one-column product per channel), one value or four channels per invocation.

use std::sync::Arc;

use super::super::kernel::{Coverage, KernelDef};
use super::super::program::{Binding, ProgramBuilder, Value, Weight};
use super::window::{conv_def, dispatch, Geometry};
use super::Kernel;
use crate::error::Result;
use crate::specs::DepthwiseSpec;

const SOURCE: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "depthwise_conv2d.wgsl"
);
pub(super) const DEPTHWISE: KernelDef =
    conv_def("depthwise_conv2d", SOURCE, "main", &[], Coverage::PerValue);

pub(super) const DEPTHWISE4: KernelDef = KernelDef {
    name: "depthwise_conv2d4",
    entry_point: "main4",
    // One invocation per four channels: the grid and the shader's `total` count vec4s.
    coverage: Coverage::Block {
        rows: 1,
        filters: 4,
    },
    ..DEPTHWISE
};

/// Records a DepthwiseConv2D of `spec` on per-example images `hwc` from `x` into `out` (which
/// may be a channel slice).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_depthwise(
    b: &mut ProgramBuilder<'_>,
    spec: &DepthwiseSpec,
    hwc: [usize; 3],
    x: Value,
    kernel: Weight,
    bias: Option<Weight>,
    out: Value,
) -> Result<()> {
    let (offset, pitch) = b.layout(out);
    let [h, w, c] = hwc;
    let vec4 = spec.depth_multiplier == 1
        && c.is_multiple_of(4)
        && pitch.is_multiple_of(4)
        && offset.is_multiple_of(4);
    let kernel_id = if vec4 {
        Kernel::DepthwiseConv2d4
    } else {
        Kernel::DepthwiseConv2d
    };
    let bias_binding = match bias {
        Some(w) => w,
        None => b.unused()?,
    };
    let spec = *spec;
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    // A folded ZeroPadding2D: `hwc` is the padded shape, the window's padding grows by it.
    let padding = b.padding(x);
    let params = Arc::new(move |batch: usize| {
        let g = spec.plan([batch, h, w, c])?;
        dispatch("depthwise_conv2d", kernel_id, &Geometry::unpadded(&g, padding), per_dim, |p| {
            p.has_bias = u32::from(bias.is_some());
            p.activation = spec.activation.shader_code();
            p.group_in = spec.depth_multiplier as u32;
            p.out_pitch = pitch as u32;
            p.out_offset = offset as u32;
        })
    });
    b.dispatch(
        kernel_id,
        vec![
            Binding::Read(x),
            Binding::Weight(kernel),
            Binding::Weight(bias_binding),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}
