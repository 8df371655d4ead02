//! Keras `Conv2DTranspose`: kernel `(kh, kw, filters, in_channels)`; output size per axis
//! `(in − 1)·s + max(k, s)` ('valid') or `in·s` ('same'), or as `output_padding` sets it.

use super::config::Config;
use super::conv_lowering::upload_weights;
use super::shapes::{hwc, mul_add};
use super::{explain, weight, Layer, WeightSpec};
#[cfg(feature = "native")]
use crate::cpu;
use crate::error::Result;
use crate::gpu::kernels::emit_conv2d_transpose;
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::TransposeSpec;
use crate::tensor::Tensor;

/// `Conv2DTranspose(filters, kernel_size, strides, padding, output_padding, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dTranspose(pub TransposeSpec);

impl Conv2dTranspose {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "output_padding",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ])?;
        c.channels_last()?;
        let activation = c.activation()?;
        if activation.softmax().is_some() {
            return Err(c.error("a softmax activation on Conv2DTranspose is not supported"));
        }
        let output_padding = match c.get("output_padding") {
            None => None,
            Some(_) => Some(c.pair("output_padding", None)?),
        };
        Ok(Self(TransposeSpec {
            filters: c.positive("filters", None)?,
            kernel_size: c.pair("kernel_size", None)?,
            strides: c.pair("strides", Some([1, 1]))?,
            padding: c.padding()?,
            output_padding,
            dilation: c.pair("dilation_rate", Some([1, 1]))?,
            use_bias: c.bool("use_bias", true)?,
            activation: activation.elementwise(),
        }))
    }
}

impl Layer for Conv2dTranspose {
    fn class_name(&self) -> &'static str {
        "Conv2DTranspose"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let [h, w, c] = hwc("conv2d_transpose", inputs[0])?;
        Ok(self.0.plan([1, h, w, c])?.output[1..].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let [_, _, c] = hwc("conv2d_transpose", inputs[0])?;
        let mut w = vec![WeightSpec::trainable(
            "kernel",
            self.0.kernel_shape(c).to_vec(),
        )];
        if self.0.use_bias {
            w.push(WeightSpec::trainable("bias", vec![self.0.filters]));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let s = &self.0;
        let mut lines: Vec<String> = ["height", "width"]
            .iter()
            .enumerate()
            .map(|(i, axis)| {
                format!(
                    "{axis}: out = {} (input {} spread {} apart, kernel {}, {})",
                    output.get(i).unwrap_or(&0),
                    inputs[0].get(i).unwrap_or(&0),
                    s.strides[i],
                    s.kernel_size[i],
                    s.padding
                )
            })
            .collect();
        let c = inputs[0].last().copied().unwrap_or(0);
        let [kh, kw] = s.kernel_size;
        lines.push(explain::params(s.filters, &[kh, kw, c], s.use_bias));
        lines
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        reference::conv2d_transpose(&self.0, inputs[0], weight(weights, 0)?, weights.get(1))
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        cpu::conv2d_transpose(&self.0, inputs[0], weight(weights, 0)?, weights.get(1))
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = hwc("conv2d_transpose", l.input_shape(0))?;
        let (kernel, bias) = upload_weights(l, 0, self.0.use_bias.then_some(1))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_conv2d_transpose(l.builder(), &self.0, shape, x, kernel, bias, out)
    }

    fn flops(&self, inputs: &[&[usize]], output: &[usize]) -> u64 {
        // Every input cell reaches kh·kw·filters outputs with in_c multiply-adds each.
        let cells: usize = inputs[0].iter().product();
        let [kh, kw] = self.0.kernel_size;
        let _ = output;
        2 * mul_add("conv2d_transpose", cells, kh * kw * self.0.filters, 0).unwrap_or(0) as u64
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }
}
