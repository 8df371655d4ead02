//! Conv2DTranspose, UpSampling2D and LayerNormalization.

use std::sync::Arc;

use super::super::kernels::{Kernel, LayerNormParams, ResizeParams};
use super::super::program::{Binding, Dispatch, ProgramBuilder, Value, Weight};
use super::window::{dispatch, grid, Geometry};
use crate::error::Result;
use crate::ops::TransposeSpec;

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

/// Records UpSampling2D of per-example images `hwc` by `factor` from `x` into `out`.
pub(crate) fn emit_resize2d(
    b: &mut ProgramBuilder<'_>,
    hwc: [usize; 3],
    factor: [usize; 2],
    bilinear: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let [h, w, c] = hwc;
    let (oh, ow) = (h * factor[0], w * factor[1]);
    let params = Arc::new(move |batch: usize| {
        let total = batch * oh * ow * c;
        let grid = grid("upsampling2d", total, per_dim)?;
        let p = ResizeParams {
            total: total as u32,
            in_h: h as u32,
            in_w: w as u32,
            channels: c as u32,
            out_h: oh as u32,
            out_w: ow as u32,
            bilinear: u32::from(bilinear),
            groups_x: grid[0],
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::Resize2d,
        vec![Binding::Read(x), Binding::Write(out)],
        params,
    );
    Ok(())
}

/// Records LayerNormalization over rows of `cols` values (`rows` per example).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_layer_norm(
    b: &mut ProgramBuilder<'_>,
    rows: usize,
    cols: usize,
    epsilon: f32,
    gamma: Option<Weight>,
    beta: Option<Weight>,
    rms: bool,
    x: Value,
    out: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let unused = b.unused()?;
    let params = Arc::new(move |batch: usize| {
        let total = batch * rows;
        let grid = grid("layer_normalization", total, per_dim)?;
        let p = LayerNormParams {
            rows: total as u32,
            cols: cols as u32,
            groups_x: grid[0],
            epsilon,
            has_gamma: u32::from(gamma.is_some()),
            has_beta: u32::from(beta.is_some()),
            rms: u32::from(rms),
            _pad: 0,
        };
        Ok(Dispatch {
            bytes: bytemuck::bytes_of(&p).to_vec(),
            grid,
        })
    });
    b.dispatch(
        Kernel::LayerNorm,
        vec![
            Binding::Read(x),
            Binding::Weight(gamma.unwrap_or(unused)),
            Binding::Weight(beta.unwrap_or(unused)),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}
