//! Keras `SeparableConv2D`: a DepthwiseConv2D (no bias) followed by a 1×1 Conv2D with the bias
//! and the activation.

use super::config::Config;
use super::conv_lowering::{lower_conv2d, lower_conv2d_with, Folded};
use super::depthwise_conv2d::depthwise_spec;
use super::shapes::{hwc, mul_add};
use super::{explain, weight, Epilogue, Layer, WeightSpec};
use crate::activation::Activation;
#[cfg(feature = "native")]
use crate::cpu;
use crate::error::Result;
use crate::gpu::kernels::emit_depthwise;
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::{Conv2dSpec, DepthwiseSpec};
use crate::tensor::Tensor;

/// `SeparableConv2D(filters, kernel_size, strides, padding, depth_multiplier, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeparableConv2d {
    /// The depthwise step (geometry; no bias, no activation).
    pub depthwise: DepthwiseSpec,
    /// The pointwise step: a 1×1 convolution with the bias and the activation.
    pub pointwise: Conv2dSpec,
}

impl SeparableConv2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "depth_multiplier",
            "activation",
            "use_bias",
        ])?;
        if c.activation()?.softmax().is_some() {
            return Err(c.error("a softmax activation on SeparableConv2D is not supported"));
        }
        let full = depthwise_spec(c)?;
        let depthwise = DepthwiseSpec {
            use_bias: false,
            activation: Activation::Linear,
            ..full
        };
        let pointwise = Conv2dSpec::new(c.positive("filters", None)?, [1, 1])
            .use_bias(full.use_bias)
            .activation(full.activation);
        Ok(Self {
            depthwise,
            pointwise,
        })
    }

    fn inner(&self, input: &[usize]) -> Result<Vec<usize>> {
        let [h, w, c] = hwc("separable_conv2d", input)?;
        Ok(self.depthwise.plan([1, h, w, c])?.output[1..].to_vec())
    }
}

impl Layer for SeparableConv2d {
    fn class_name(&self) -> &'static str {
        "SeparableConv2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let mut out = self.inner(inputs[0])?;
        if let Some(c) = out.last_mut() {
            *c = self.pointwise.filters;
        }
        Ok(out)
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let [_, _, c] = hwc("separable_conv2d", inputs[0])?;
        let mid = mul_add("separable_conv2d", c, self.depthwise.depth_multiplier, 0)?;
        let mut w = vec![
            WeightSpec::trainable("depthwise_kernel", self.depthwise.kernel_shape(c).to_vec()),
            WeightSpec::trainable("pointwise_kernel", vec![1, 1, mid, self.pointwise.filters]),
        ];
        if self.pointwise.use_bias {
            w.push(WeightSpec::trainable("bias", vec![self.pointwise.filters]));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let d = &self.depthwise;
        let mut lines = explain::window(
            inputs[0],
            output,
            d.kernel_size,
            d.strides,
            d.dilation,
            d.padding,
        );
        let c = inputs[0].last().copied().unwrap_or(0);
        let [kh, kw] = d.kernel_size;
        let mid = c.saturating_mul(d.depth_multiplier);
        lines.push(format!(
            "depthwise {} + pointwise {}",
            explain::params(mid, &[kh, kw], false),
            explain::params(self.pointwise.filters, &[mid], self.pointwise.use_bias)
        ));
        lines
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let mid =
            reference::depthwise_conv2d(&self.depthwise, inputs[0], weight(weights, 0)?, None)?;
        reference::conv2d(&self.pointwise, &mid, weight(weights, 1)?, weights.get(2))
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let mid = cpu::depthwise_conv2d(&self.depthwise, inputs[0], weight(weights, 0)?, None)?;
        cpu::conv2d(&self.pointwise, &mid, weight(weights, 1)?, weights.get(2))
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = hwc("separable_conv2d", l.input_shape(0))?;
        let mid_shape = self.inner(&shape)?;
        let kernel = l.upload("depthwise_kernel", |w| Ok(weight(w, 0)?.data().to_vec()))?;
        let x = l.input(0);
        let mid = l.temp(&mid_shape)?;
        emit_depthwise(l.builder(), &self.depthwise, shape, x, kernel, None, mid)?;
        let out = l.output()?;
        let mid_hwc = hwc("separable_conv2d", &mid_shape)?;
        let bias = self.pointwise.use_bias.then_some(2);
        lower_conv2d(l, &self.pointwise, mid_hwc, mid, out, 1, bias)
    }

    fn flops(&self, inputs: &[&[usize]], output: &[usize]) -> u64 {
        let c = inputs[0].last().copied().unwrap_or(0) as u64;
        let [kh, kw] = self.depthwise.kernel_size;
        let positions = output.iter().rev().skip(1).product::<usize>() as u64;
        let mid = c * self.depthwise.depth_multiplier as u64;
        2 * positions * mid * ((kh * kw) as u64 + self.pointwise.filters as u64)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }

    fn takes_epilogue(&self) -> bool {
        self.pointwise.activation == Activation::Linear
    }

    #[cfg(feature = "native")]
    fn cpu_fused(
        &self,
        inputs: &[&Tensor],
        weights: &[Tensor],
        epilogue: &Epilogue,
    ) -> Result<Tensor> {
        let mid = cpu::depthwise_conv2d(&self.depthwise, inputs[0], weight(weights, 0)?, None)?;
        let bias = self.pointwise.use_bias.then(|| weights.get(2)).flatten();
        let affine = epilogue.with_bias(bias.map(Tensor::data));
        let finish = epilogue.finish(&affine, None);
        let spec = Conv2dSpec {
            use_bias: false,
            ..self.pointwise
        };
        cpu::conv2d_with(&spec, &mid, weight(weights, 1)?, finish)
    }

    fn lower_fused(&self, l: &mut Lowering<'_, '_>, epilogue: &Epilogue) -> Result<()> {
        let shape = hwc("separable_conv2d", l.input_shape(0))?;
        let mid_shape = self.inner(&shape)?;
        let kernel = l.upload("depthwise_kernel", |w| Ok(weight(w, 0)?.data().to_vec()))?;
        let x = l.input(0);
        let mid = l.temp(&mid_shape)?;
        emit_depthwise(l.builder(), &self.depthwise, shape, x, kernel, None, mid)?;
        let out = l.output()?;
        let mid_hwc = hwc("separable_conv2d", &mid_shape)?;
        let folded = Folded::new(
            "separable_conv2d",
            epilogue,
            1,
            self.pointwise.use_bias.then_some(2),
        )?;
        let spec = Conv2dSpec {
            use_bias: folded.has_bias,
            activation: folded.activation,
            ..self.pointwise
        };
        let (kernel, bias) = (
            |w: &[Tensor]| folded.kernel(w),
            |w: &[Tensor]| folded.bias(w),
        );
        lower_conv2d_with(
            l,
            &spec,
            mid_hwc,
            mid,
            out,
            None,
            &folded.key,
            &kernel,
            &bias,
        )
    }
}
