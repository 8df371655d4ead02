//! Keras `DepthwiseConv2D`: kernel `(kh, kw, in_channels, depth_multiplier)`, output channel
//! `c·depth_multiplier + m`.

use super::config::Config;
use super::conv_lowering::{upload_weights, Folded};
use super::shapes::{hwc, mul_add};
use super::{explain, weight, Epilogue, Layer, WeightSpec};
use crate::activation::Activation;
#[cfg(feature = "native")]
use crate::cpu;
use crate::error::Result;
use crate::gpu::kernels::emit_depthwise;
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::DepthwiseSpec;
use crate::tensor::Tensor;

/// `DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, dilation_rate, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthwiseConv2d(pub DepthwiseSpec);

/// The depthwise options shared with SeparableConv2D.
pub(crate) fn depthwise_spec(c: &Config<'_>) -> Result<DepthwiseSpec> {
    c.channels_last()?;
    let spec = DepthwiseSpec {
        kernel_size: c.pair("kernel_size", None)?,
        strides: c.pair("strides", Some([1, 1]))?,
        padding: c.padding()?,
        dilation: c.pair("dilation_rate", Some([1, 1]))?,
        depth_multiplier: c.positive("depth_multiplier", Some(1))?,
        use_bias: c.bool("use_bias", true)?,
        activation: c.activation()?.elementwise(),
    };
    spec.validate()?;
    Ok(spec)
}

impl DepthwiseConv2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&[
            "kernel_size",
            "strides",
            "padding",
            "depth_multiplier",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ])?;
        if c.activation()?.softmax().is_some() {
            return Err(c.error("a softmax activation on DepthwiseConv2D is not supported"));
        }
        Ok(Self(depthwise_spec(c)?))
    }
}

impl Layer for DepthwiseConv2d {
    fn class_name(&self) -> &'static str {
        "DepthwiseConv2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let [h, w, c] = hwc("depthwise_conv2d", inputs[0])?;
        Ok(self.0.plan([1, h, w, c])?.output[1..].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let [_, _, c] = hwc("depthwise_conv2d", inputs[0])?;
        // Keras names this one plain `kernel` (SeparableConv2D's is `depthwise_kernel`).
        let mut w = vec![WeightSpec::trainable(
            "kernel",
            self.0.kernel_shape(c).to_vec(),
        )];
        if self.0.use_bias {
            let out = mul_add("depthwise_conv2d", c, self.0.depth_multiplier, 0)?;
            w.push(WeightSpec::trainable("bias", vec![out]));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let s = &self.0;
        let mut lines = explain::window(
            inputs[0],
            output,
            s.kernel_size,
            s.strides,
            s.dilation,
            s.padding,
        );
        let c = inputs[0].last().copied().unwrap_or(0);
        let [kh, kw] = s.kernel_size;
        lines.push(explain::params(
            c.saturating_mul(s.depth_multiplier),
            &[kh, kw],
            s.use_bias,
        ));
        lines
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        reference::depthwise_conv2d(&self.0, inputs[0], weight(weights, 0)?, weights.get(1))
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        cpu::depthwise_conv2d(&self.0, inputs[0], weight(weights, 0)?, weights.get(1))
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = hwc("depthwise_conv2d", l.input_shape(0))?;
        let (kernel, bias) = upload_weights(l, 0, self.0.use_bias.then_some(1))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_depthwise(l.builder(), &self.0, shape, x, kernel, bias, out)
    }

    fn flops(&self, _inputs: &[&[usize]], output: &[usize]) -> u64 {
        let [kh, kw] = self.0.kernel_size;
        2 * output.iter().product::<usize>() as u64 * (kh * kw) as u64
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }

    /// Every GPU path hands input 0 to the convolution emitters only.
    fn takes_zero_padded_input(&self) -> bool {
        true
    }

    fn takes_epilogue(&self) -> bool {
        self.0.activation == Activation::Linear
    }

    #[cfg(feature = "native")]
    fn cpu_fused(
        &self,
        inputs: &[&Tensor],
        weights: &[Tensor],
        epilogue: &Epilogue,
    ) -> Result<Tensor> {
        let bias = self.0.use_bias.then(|| weights.get(1)).flatten();
        let affine = epilogue.with_bias(bias.map(Tensor::data));
        let finish = epilogue.finish(&affine, None);
        let spec = DepthwiseSpec {
            use_bias: false,
            ..self.0
        };
        cpu::depthwise_conv2d_with(&spec, inputs[0], weight(weights, 0)?, finish)
    }

    fn lower_fused(&self, l: &mut Lowering<'_, '_>, epilogue: &Epilogue) -> Result<()> {
        let shape = hwc("depthwise_conv2d", l.input_shape(0))?;
        let folded = Folded::new(
            "depthwise_conv2d",
            epilogue,
            0,
            self.0.use_bias.then_some(1),
        )?;
        let (kernel, bias) = folded.upload(l)?;
        let spec = DepthwiseSpec {
            use_bias: folded.has_bias,
            activation: folded.activation,
            ..self.0
        };
        let x = l.input(0);
        let out = l.output()?;
        emit_depthwise(l.builder(), &spec, shape, x, kernel, bias, out)
    }
}
