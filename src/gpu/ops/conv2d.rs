//! Conv2D (and Dense, as a 1×1 convolution over rows) on the Conv2D kernel variants.

use std::sync::Arc;

use super::super::conv2d::ConvVariant;
use super::super::lower::Lowering;
use super::super::program::{Binding, ProgramBuilder, Value, Weight};
use super::window::dispatch;
use crate::error::{Error, Result};
use crate::layers::weight;
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

/// A convolution's uploaded weights, in the chosen variant's layout
/// ([`ConvVariant::filter_layout`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvWeights {
    pub kernel: Weight,
    pub bias: Option<Weight>,
}

/// Records a Conv2D of `spec` on per-example images `hwc` from `x` into `out` (which may be a
/// channel slice), with `variant`'s kernel.
pub(crate) fn emit_conv2d(
    b: &mut ProgramBuilder<'_>,
    variant: ConvVariant,
    spec: &Conv2dSpec,
    hwc: [usize; 3],
    x: Value,
    weights: ConvWeights,
    out: Value,
) -> Result<()> {
    let (offset, pitch) = b.layout(out);
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
    let spec = *spec;
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let [h, w, c] = hwc;
    let params = Arc::new(move |batch: usize| {
        let g = spec.plan([batch, h, w, c])?;
        dispatch("conv2d", kernel, &(&g).into(), per_dim, |p| {
            p.has_bias = u32::from(weights.bias.is_some());
            p.activation = spec.activation.shader_code();
            p.group_in = (c / spec.groups) as u32;
            p.group_out = (spec.filters / spec.groups) as u32;
            p.out_pitch = pitch as u32;
            p.out_offset = offset as u32;
        })
    });
    b.dispatch(
        kernel,
        vec![
            Binding::Read(x),
            Binding::Weight(weights.kernel),
            Binding::Weight(bias),
            Binding::Write(out),
        ],
        params,
    );
    Ok(())
}

/// Lowers a Conv2D whose kernel and bias are the node's weights `kernel` and `bias`: picks the
/// variant (autotuned, or the default where the tuned one cannot write `out`'s layout), uploads
/// the weights in its layout (once per layer) and records the dispatch.
pub(crate) fn lower_conv2d(
    l: &mut Lowering<'_, '_>,
    spec: &Conv2dSpec,
    hwc: [usize; 3],
    x: Value,
    out: Value,
    kernel: usize,
    bias: Option<usize>,
) -> Result<()> {
    let kernel_of = move |w: &[Tensor]| Ok(weight(w, kernel)?.data().to_vec());
    let bias_of = move |w: &[Tensor]| -> Result<Vec<f32>> {
        match bias {
            Some(b) => Ok(weight(w, b)?.data().to_vec()),
            None => Ok(Vec::new()),
        }
    };
    let key = format!("{kernel} {bias:?}");
    lower_conv2d_with(l, spec, hwc, x, out, &key, &kernel_of, &bias_of)
}

/// [`lower_conv2d`] with the kernel (HWIO) and bias computed from the layer's weights by
/// `kernel` and `bias` (an empty bias: none) — a BatchNormalization folded in, say; `key`
/// names the computation, so a layer called twice uploads once.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_conv2d_with(
    l: &mut Lowering<'_, '_>,
    spec: &Conv2dSpec,
    hwc: [usize; 3],
    x: Value,
    out: Value,
    key: &str,
    kernel: &dyn Fn(&[Tensor]) -> Result<Vec<f32>>,
    bias: &dyn Fn(&[Tensor]) -> Result<Vec<f32>>,
) -> Result<()> {
    let [h, w, c] = hwc;
    let (offset, pitch) = l.builder().layout(out);
    let tuned = l.gpu().conv_variant(spec, [l.tune_batch(), h, w, c])?;
    let variant = if tuned.fits(spec.filters, spec.groups, pitch, offset) {
        tuned
    } else {
        ConvVariant::choose(spec)
    };
    let filters = spec.filters;
    let kernel = l.upload(&format!("kernel {key} {variant:?}"), |w| {
        Ok(variant.filter_layout(&kernel(w)?, filters).into_owned())
    })?;
    let bias = if spec.use_bias {
        Some(l.upload(&format!("bias {key} {variant:?}"), |w| {
            Ok(variant.filter_layout(&bias(w)?, filters).into_owned())
        })?)
    } else {
        None
    };
    emit_conv2d(
        l.builder(),
        variant,
        spec,
        hwc,
        x,
        ConvWeights { kernel, bias },
        out,
    )
}

/// `kernel` with output channel `i % channels` scaled by `scale[i % channels]` (the last axis
/// is the output channel in every layout Keras uses): a BatchNormalization folded into the
/// layer before it.
pub(crate) fn fold_scale(kernel: &[f32], scale: Option<&[f32]>) -> Vec<f32> {
    match scale {
        None => kernel.to_vec(),
        Some(s) => kernel
            .iter()
            .enumerate()
            .map(|(i, &k)| (f64::from(k) * f64::from(s[i % s.len()])) as f32)
            .collect(),
    }
}
