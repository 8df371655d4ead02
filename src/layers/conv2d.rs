//! Keras `Conv2D`: NHWC input, HWIO kernel `(kh, kw, in_channels / groups, filters)`.

use super::config::Config;
use super::conv_lowering::{add_in_place, lower_conv2d, lower_conv2d_with, Folded};
use super::shapes::{hwc, mul_add, product};
use super::{explain, weight, Epilogue, Layer, WeightSpec};
use crate::activation::Activation;
#[cfg(feature = "native")]
use crate::cpu;
#[cfg(feature = "native")]
use crate::error::Error;
use crate::error::Result;
use crate::gpu::kernels::{emit_depthwise, emit_softmax};
use crate::gpu::Lowering;
use crate::reference;
use crate::specs::{Conv2dSpec, DepthwiseSpec};
use crate::tensor::Tensor;

/// `Conv2D`: the spec carries geometry, bias, groups and the element-wise activation; a softmax
/// activation (`activation='softmax'`) runs after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    /// Geometry, bias, groups and fused element-wise activation.
    pub spec: Conv2dSpec,
    /// Softmax (`Some(false)`) or log-softmax (`Some(true)`) over channels after it.
    pub softmax: Option<bool>,
}

impl Conv2d {
    /// A Conv2D of `spec` (its element-wise activation fused).
    pub fn new(spec: Conv2dSpec) -> Self {
        Self {
            spec,
            softmax: None,
        }
    }

    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "groups",
            "activation",
            "use_bias",
        ])?;
        c.channels_last()?;
        let activation = c.activation()?;
        let spec = Conv2dSpec::new(c.usize("filters")?, c.pair("kernel_size", None)?)
            .strides(c.pair("strides", Some([1, 1]))?)
            .padding(c.padding()?)
            .dilation(c.pair("dilation_rate", Some([1, 1]))?)
            .use_bias(c.bool("use_bias", true)?)
            .groups(c.usize_or("groups", 1)?)
            .activation(activation.elementwise());
        spec.validate()?;
        Ok(Self {
            spec,
            softmax: activation.softmax(),
        })
    }

    /// A grouped convolution with one input channel per group is a depthwise convolution
    /// (ConvNeXt writes its depthwise layers this way), and its HWIO kernel
    /// `(kh, kw, 1, filters)` is already the depthwise layout `(kh, kw, in, filters / in)`.
    fn as_depthwise(&self, in_channels: usize) -> Option<DepthwiseSpec> {
        let s = &self.spec;
        (s.groups > 1 && s.groups == in_channels).then(|| DepthwiseSpec {
            kernel_size: s.kernel_size,
            strides: s.strides,
            padding: s.padding,
            dilation: s.dilation,
            depth_multiplier: s.filters / s.groups,
            use_bias: s.use_bias,
            activation: s.activation,
        })
    }

    fn then_softmax(&self, y: Tensor) -> Result<Tensor> {
        match self.softmax {
            Some(log) => reference::softmax(&y, log),
            None => Ok(y),
        }
    }
}

impl Layer for Conv2d {
    fn class_name(&self) -> &'static str {
        "Conv2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let [h, w, c] = hwc("conv2d", inputs[0])?;
        Ok(self.spec.output_shape([1, h, w, c])?[1..].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let [_, _, c] = hwc("conv2d", inputs[0])?;
        let mut w = vec![WeightSpec::trainable(
            "kernel",
            self.spec.kernel_shape(c).to_vec(),
        )];
        if self.spec.use_bias {
            w.push(WeightSpec::trainable("bias", vec![self.spec.filters]));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let s = &self.spec;
        let mut lines = explain::window(
            inputs[0],
            output,
            s.kernel_size,
            s.strides,
            s.dilation,
            s.padding,
        );
        let cin = inputs[0].last().copied().unwrap_or(0) / s.groups.max(1);
        let [kh, kw] = s.kernel_size;
        lines.push(explain::params(s.filters, &[kh, kw, cin], s.use_bias));
        lines
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let y = reference::conv2d(&self.spec, inputs[0], &weights[0], weights.get(1))?;
        self.then_softmax(y)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let kernel = weight(weights, 0)?;
        let y = match self.as_depthwise(x.shape().last().copied().unwrap_or(0)) {
            Some(d) => {
                let [kh, kw, _, f] = self.spec.kernel_shape(1);
                let k =
                    kernel
                        .clone()
                        .reshape(vec![kh, kw, self.spec.groups, f / self.spec.groups])?;
                cpu::depthwise_conv2d(&d, x, &k, weights.get(1))?
            }
            None => cpu::conv2d(&self.spec, x, kernel, weights.get(1))?,
        };
        self.then_softmax(y)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = hwc("conv2d", l.input_shape(0))?;
        let x = l.input(0);
        let bias = self.spec.use_bias.then_some(1);
        if let (Some(d), None) = (self.as_depthwise(shape[2]), self.softmax) {
            let kernel = l.upload("kernel", |w| Ok(weight(w, 0)?.data().to_vec()))?;
            let bias = match bias {
                Some(i) => Some(l.upload("bias", |w| Ok(weight(w, i)?.data().to_vec()))?),
                None => None,
            };
            let out = l.output()?;
            return emit_depthwise(l.builder(), &d, shape, x, kernel, bias, out);
        }
        match self.softmax {
            None => {
                let out = l.output()?;
                lower_conv2d(l, &self.spec, shape, x, out, 0, bias)
            }
            Some(log) => {
                let out_shape = l.output_shape().to_vec();
                let tmp = l.temp(&out_shape)?;
                lower_conv2d(l, &self.spec, shape, x, tmp, 0, bias)?;
                let rows = product("conv2d", &out_shape[..out_shape.len() - 1])?;
                let out = l.output()?;
                let batch = l.tune_batch();
                emit_softmax(l.builder(), batch, rows, self.spec.filters, log, tmp, out)
            }
        }
    }

    fn flops(&self, inputs: &[&[usize]], output: &[usize]) -> u64 {
        let cin = inputs[0].last().copied().unwrap_or(0) / self.spec.groups.max(1);
        let [kh, kw] = self.spec.kernel_size;
        let k = mul_add("conv2d", kh * kw, cin, 0).unwrap_or(usize::MAX) as u64;
        2 * output.iter().product::<usize>() as u64 * k
    }

    fn writes_channel_slices(&self) -> bool {
        self.softmax.is_none()
    }

    /// Every GPU path hands input 0 to the convolution emitters only.
    fn takes_zero_padded_input(&self) -> bool {
        true
    }

    fn takes_epilogue(&self) -> bool {
        self.softmax.is_none() && self.spec.activation == Activation::Linear
    }

    fn takes_residual(&self) -> bool {
        true
    }

    #[cfg(feature = "native")]
    fn cpu_fused(
        &self,
        inputs: &[&Tensor],
        weights: &[Tensor],
        epilogue: &Epilogue,
    ) -> Result<Tensor> {
        let x = inputs[0];
        let kernel = weight(weights, 0)?;
        let bias = self.spec.use_bias.then(|| weights.get(1)).flatten();
        let affine = epilogue.with_bias(bias.map(Tensor::data));
        let out_shape = <[usize; 4]>::try_from(x.shape())
            .ok()
            .map(|s| self.spec.output_shape(s))
            .transpose()?;
        let residual = match (epilogue.residual, inputs) {
            (false, _) => None,
            (true, [_, r]) if out_shape.is_some_and(|s| r.shape() == s) => Some(r.data()),
            (true, _) => {
                return Err(Error::Internal {
                    op: "conv2d",
                    message: "a fused residual of another shape than the output".into(),
                })
            }
        };
        let finish = epilogue.finish(&affine, residual);
        let spec = Conv2dSpec {
            use_bias: false,
            ..self.spec
        };
        match self.as_depthwise(x.shape().last().copied().unwrap_or(0)) {
            Some(d) => {
                let [kh, kw, _, f] = self.spec.kernel_shape(1);
                let k =
                    kernel
                        .clone()
                        .reshape(vec![kh, kw, self.spec.groups, f / self.spec.groups])?;
                let d = DepthwiseSpec {
                    use_bias: false,
                    ..d
                };
                cpu::depthwise_conv2d_with(&d, x, &k, finish)
            }
            None => cpu::conv2d_with(&spec, x, kernel, finish),
        }
    }

    fn lower_fused(&self, l: &mut Lowering<'_, '_>, epilogue: &Epilogue) -> Result<()> {
        let shape = hwc("conv2d", l.input_shape(0))?;
        let folded = Folded::new("conv2d", epilogue, 0, self.spec.use_bias.then_some(1))?;
        let x = l.input(0);
        let out = l.output()?;
        // A fused Add's other input comes last.
        let residual = epilogue.residual.then(|| l.input(l.input_count() - 1));
        if let Some(d) = self.as_depthwise(shape[2]) {
            let d = DepthwiseSpec {
                use_bias: folded.has_bias,
                activation: if residual.is_some() {
                    Activation::Linear
                } else {
                    folded.activation
                },
                ..d
            };
            let (kernel, bias) = folded.upload(l)?;
            emit_depthwise(l.builder(), &d, shape, x, kernel, bias, out)?;
            return match residual {
                Some(r) => add_in_place(l, out, r, folded.activation),
                None => Ok(()),
            };
        }
        let spec = Conv2dSpec {
            use_bias: folded.has_bias,
            activation: folded.activation,
            ..self.spec
        };
        let (kernel, bias) = (
            |w: &[Tensor]| folded.kernel(w),
            |w: &[Tensor]| folded.bias(w),
        );
        lower_conv2d_with(
            l,
            &spec,
            shape,
            x,
            out,
            residual,
            &folded.key,
            &kernel,
            &bias,
        )
    }
}
