//! Conv2DTranspose (`conv2d_transpose.wgsl`), one output value per invocation.

use std::sync::Arc;

use super::super::kernel::{Coverage, KernelDef};
use super::super::program::{Binding, ProgramBuilder, Value, Weight};
use super::window::{conv_def, dispatch, Geometry};
use super::Kernel;
use crate::error::Result;
use crate::specs::TransposeSpec;

pub(super) const TRANSPOSE: KernelDef = conv_def(
    "conv2d_transpose",
    wgsl!(
        "common.wgsl",
        "window.wgsl",
        "activation.wgsl",
        "conv2d_transpose.wgsl"
    ),
    "main",
    &[],
    Coverage::PerValue,
);

/// Records a Conv2DTranspose of `spec` on per-example images `hwc` from `x` into `out`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_conv2d_transpose(
    b: &mut ProgramBuilder<'_>,
    spec: &TransposeSpec,
    hwc: [usize; 3],
    x: Value,
    kernel: Weight,
    bias: Option<Weight>,
    out: Value,
) -> Result<()> {
    let (offset, pitch) = b.layout(out);
    let bias_binding = match bias {
        Some(w) => w,
        None => b.unused()?,
    };
    let spec = *spec;
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let [h, w, c] = hwc;
    let params = Arc::new(move |batch: usize| {
        let g = spec.plan([batch, h, w, c])?;
        let geometry = Geometry {
            input: g.input,
            output: g.output,
            window: spec.kernel_size,
            strides: spec.strides,
            dilation: spec.dilation,
            pad: [g.rows.pad_before as isize, g.cols.pad_before as isize],
        };
        dispatch(
            "conv2d_transpose",
            Kernel::Conv2dTranspose,
            &geometry,
            per_dim,
            |p| {
                p.has_bias = u32::from(bias.is_some());
                p.activation = spec.activation.shader_code();
                p.out_pitch = pitch as u32;
                p.out_offset = offset as u32;
            },
        )
    });
    b.dispatch(
        Kernel::Conv2dTranspose,
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
