//! GPU lowering the convolution layers share (Conv2D, SeparableConv2D, Dense's fused forms,
//! DepthwiseConv2D): a Conv2D on the autotuned kernel variant with weights derived from the
//! layer's, and a BatchNormalization's scale folded into a kernel.

use super::{weight, Epilogue};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::gpu::kernels::{
    emit_binary_then, emit_conv2d, BinaryOp, ConvVariant, ConvWeights, Operand,
};
use crate::gpu::{Lowering, Value, Weight};
use crate::specs::Conv2dSpec;
use crate::tensor::Tensor;

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
    lower_conv2d_with(l, spec, hwc, x, out, None, &key, &kernel_of, &bias_of)
}

/// [`lower_conv2d`] with the kernel (HWIO) and bias computed from the layer's weights by
/// `kernel` and `bias` (an empty bias: none) — a BatchNormalization folded in, say; `key`
/// names the computation, so a layer called twice uploads once. A `residual` (a fused `Add`'s
/// other input) is added before the activation: by the kernel when it is stored densely,
/// otherwise by an in-place add after it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_conv2d_with(
    l: &mut Lowering<'_, '_>,
    spec: &Conv2dSpec,
    hwc: [usize; 3],
    x: Value,
    out: Value,
    residual: Option<Value>,
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
    let weights = ConvWeights { kernel, bias };
    match residual {
        Some(r) if !l.builder().is_dense(r) => {
            let linear = (*spec).activation(Activation::Linear);
            emit_conv2d(l.builder(), variant, &linear, hwc, x, weights, out, None)?;
            add_in_place(l, out, r, spec.activation)
        }
        _ => emit_conv2d(l.builder(), variant, spec, hwc, x, weights, out, residual),
    }
}

/// `out = activation(out + residual)`: a fused `Add` where the kernel cannot take it.
pub(crate) fn add_in_place(
    l: &mut Lowering<'_, '_>,
    out: Value,
    residual: Value,
    activation: Activation,
) -> Result<()> {
    emit_binary_then(
        l.builder(),
        BinaryOp::Add,
        None,
        Operand::Value(residual),
        out,
        1.0,
        activation,
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

/// Uploads a layer's kernel (weight `kernel`) and bias (weight `bias`, when it has one) as they
/// are, once per layer.
pub(crate) fn upload_weights(
    l: &mut Lowering<'_, '_>,
    kernel: usize,
    bias: Option<usize>,
) -> Result<(Weight, Option<Weight>)> {
    let k = l.upload(&format!("weight {kernel}"), |w| {
        Ok(weight(w, kernel)?.data().to_vec())
    })?;
    let b = match bias {
        Some(i) => Some(l.upload(&format!("weight {i}"), |w| {
            Ok(weight(w, i)?.data().to_vec())
        })?),
        None => None,
    };
    Ok((k, b))
}

/// A fused epilogue folded into a convolution's weights: the BatchNormalization's scale into
/// the kernel (weight `kernel`), its shift and the layer's own bias (weight `bias`, when it has
/// one) into one bias, and the activation the kernel applies at its store.
pub(crate) struct Folded<'e> {
    /// The activation the kernel applies.
    pub activation: Activation,
    /// Whether the folded convolution has a bias.
    pub has_bias: bool,
    /// Names the folded weights, so a layer called with two epilogues uploads both.
    pub key: String,
    epilogue: &'e Epilogue,
    kernel: usize,
    bias: Option<usize>,
}

impl<'e> Folded<'e> {
    /// Folds `epilogue` into the weights at `kernel` and `bias`; `op` names the layer kind in
    /// errors. The GPU's kernels fuse activations only (the planner fuses nothing else there).
    pub(crate) fn new(
        op: &'static str,
        epilogue: &'e Epilogue,
        kernel: usize,
        bias: Option<usize>,
    ) -> Result<Self> {
        let activation = epilogue
            .func
            .as_activation()
            .ok_or_else(|| Error::Internal {
                op,
                message: format!("cannot fuse {:?} on the GPU", epilogue.func),
            })?;
        Ok(Self {
            activation,
            has_bias: bias.is_some() || epilogue.affine.is_some(),
            key: epilogue.key(),
            epilogue,
            kernel,
            bias,
        })
    }

    /// The kernel, each output channel scaled.
    pub(crate) fn kernel(&self, w: &[Tensor]) -> Result<Vec<f32>> {
        let scale = self.epilogue.affine.as_ref().map(|(s, _)| s.as_slice());
        Ok(fold_scale(weight(w, self.kernel)?.data(), scale))
    }

    /// The bias after the fold (empty when there is none).
    pub(crate) fn bias(&self, w: &[Tensor]) -> Result<Vec<f32>> {
        let bias = match self.bias {
            Some(i) => Some(weight(w, i)?.data()),
            None => None,
        };
        Ok(self.epilogue.with_bias(bias).1.unwrap_or_default())
    }

    /// Uploads the folded kernel and bias as they are (once per layer and epilogue).
    pub(crate) fn upload(&self, l: &mut Lowering<'_, '_>) -> Result<(Weight, Option<Weight>)> {
        let kernel = l.upload(&format!("kernel {}", self.key), |w| self.kernel(w))?;
        let bias = if self.has_bias {
            Some(l.upload(&format!("bias {}", self.key), |w| self.bias(w))?)
        } else {
            None
        };
        Ok((kernel, bias))
    }
}
