//! Keras `Dense` on the last axis: kernel `(in_features, units)`, bias `(units,)`.

use super::config::{Config, LayerActivation};
use super::conv_lowering::fold_scale;
use super::shapes::{last, mismatch, product};
use super::{explain, weight, Epilogue, Layer, WeightSpec};
use crate::activation::{Activation, ElementFn};
#[cfg(feature = "native")]
use crate::cpu;
use crate::error::Error;
use crate::error::Result;
use crate::gpu::kernels::{emit_dense, emit_softmax, ConvWeights};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// `Dense(units, activation, use_bias)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Output features.
    pub units: usize,
    /// Whether there is a bias.
    pub use_bias: bool,
    /// Activation.
    pub activation: LayerActivation,
}

impl Dense {
    /// `Dense(units)` with a bias and no activation.
    pub fn new(units: usize) -> Self {
        Self {
            units,
            use_bias: true,
            activation: LayerActivation::default(),
        }
    }

    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["units", "activation", "use_bias"])?;
        Ok(Self {
            units: c.positive("units", None)?,
            use_bias: c.bool("use_bias", true)?,
            activation: c.activation()?,
        })
    }

    fn finish(&self, y: Tensor) -> Result<Tensor> {
        match self.activation.softmax() {
            Some(log) => reference::softmax(&y, log),
            None => Ok(y),
        }
    }
}

impl Dense {
    /// Lowers the layer, with a fused epilogue's affine map folded into the kernel and bias.
    fn lower_with(&self, l: &mut Lowering<'_, '_>, epilogue: Option<&Epilogue>) -> Result<()> {
        let input = l.input_shape(0).to_vec();
        let features = last("dense", &input)?;
        let rows = product("dense", &input[..input.len() - 1])?;
        let units = self.units;
        let x = l.input(0);
        let out_shape = l.output_shape().to_vec();
        let softmax = self.activation.softmax();
        let out = match softmax {
            Some(_) => l.temp(&out_shape)?,
            None => l.output()?,
        };
        let activation = match epilogue {
            Some(ep) => ep.func.as_activation().ok_or_else(|| Error::Internal {
                op: "dense",
                message: format!("cannot fuse {:?} on the GPU", ep.func),
            })?,
            None => self.activation.elementwise(),
        };
        let use_bias = self.use_bias;
        let tune_batch = l.tune_batch();
        let weights = l.weights();
        let ep = epilogue.cloned().unwrap_or(Epilogue {
            affine: None,
            residual: false,
            func: ElementFn::LINEAR,
        });
        let scale = ep.affine.as_ref().map(|(s, _)| s.as_slice());
        let bias = if use_bias {
            Some(weight(weights, 1)?.data())
        } else {
            None
        };
        let shift = ep.with_bias(bias).1;
        let kernel = fold_scale(weight(weights, 0)?.data(), scale);
        emit_dense(
            l.builder(),
            rows,
            features,
            units,
            activation,
            tune_batch,
            x,
            out,
            |b, first, count, variant| {
                // Columns first..first + count of the (features × units) kernel.
                let block: Vec<f32> = if count == units {
                    kernel.clone()
                } else {
                    kernel
                        .chunks_exact(units)
                        .flat_map(|row| row[first..first + count].iter().copied())
                        .collect()
                };
                let kernel = b.weight("kernel", &variant.filter_layout(&block, count))?;
                let bias = match &shift {
                    Some(shift) => Some(b.weight(
                        "bias",
                        &variant.filter_layout(&shift[first..first + count], count),
                    )?),
                    None => None,
                };
                Ok(ConvWeights { kernel, bias })
            },
        )?;
        if let Some(log) = softmax {
            let final_out = l.output()?;
            let batch = l.tune_batch();
            emit_softmax(l.builder(), batch, rows, units, log, out, final_out)?;
        }
        Ok(())
    }
}

impl Layer for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let input = inputs[0];
        if last("dense", input)? == 0 {
            return Err(mismatch("dense", "at least one input feature", input));
        }
        let mut out = input.to_vec();
        if let Some(l) = out.last_mut() {
            *l = self.units;
        }
        Ok(out)
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let fin = last("dense", inputs[0])?;
        let mut w = vec![WeightSpec::trainable("kernel", vec![fin, self.units])];
        if self.use_bias {
            w.push(WeightSpec::trainable("bias", vec![self.units]));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let fin = inputs[0].last().copied().unwrap_or(0);
        vec![explain::params(self.units, &[fin], self.use_bias)]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let bias = if self.use_bias { weights.get(1) } else { None };
        let y = reference::dense(
            inputs[0],
            weight(weights, 0)?,
            bias,
            self.activation.elementwise(),
        )?;
        self.finish(y)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let bias = if self.use_bias { weights.get(1) } else { None };
        let y = cpu::dense(
            inputs[0],
            weight(weights, 0)?,
            bias,
            self.activation.elementwise(),
        )?;
        self.finish(y)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        self.lower_with(l, None)
    }

    fn flops(&self, inputs: &[&[usize]], output: &[usize]) -> u64 {
        let fin = inputs[0].last().copied().unwrap_or(0) as u64;
        2 * output.iter().product::<usize>() as u64 * fin
    }

    fn takes_epilogue(&self) -> bool {
        self.activation == LayerActivation::Elementwise(Activation::Linear)
    }

    #[cfg(feature = "native")]
    fn cpu_fused(
        &self,
        inputs: &[&Tensor],
        weights: &[Tensor],
        epilogue: &Epilogue,
    ) -> Result<Tensor> {
        let bias = if self.use_bias {
            Some(weight(weights, 1)?.data())
        } else {
            None
        };
        let affine = epilogue.with_bias(bias);
        let finish = epilogue.finish(&affine, None);
        cpu::dense_with(inputs[0], weight(weights, 0)?, finish)
    }

    fn lower_fused(&self, l: &mut Lowering<'_, '_>, epilogue: &Epilogue) -> Result<()> {
        self.lower_with(l, Some(epilogue))
    }
}
