//! The whole forward pass on the CPU, layer by layer: through [`crate::reference`] (the oracle
//! for the GPU path and for Keras's own outputs), or with Conv2D and Dense on the fast
//! [`crate::cpu`] backend.

use super::{Layer, LayerActivation, Model};
use crate::error::Result;
use crate::ops::Pool2dSpec;
use crate::tensor::Tensor;
use crate::{cpu, reference};

impl Model {
    /// Runs the model on the CPU reference (plain loops, f64 accumulation). `input` is
    /// `(batch, ..input_shape)`.
    pub fn run_reference(&self, input: &Tensor) -> Result<Tensor> {
        self.forward(input, false, &mut |_, _| {})
    }

    /// Runs the model on the fast CPU backend (multi-threaded SIMD GEMMs for Conv2D and Dense).
    pub fn run_cpu(&self, input: &Tensor) -> Result<Tensor> {
        self.forward(input, true, &mut |_, _| {})
    }

    /// [`Model::run_cpu`] (`fast`) or [`Model::run_reference`], calling `timed(layer index,
    /// time)` after each layer: what `wgcnn bench MODEL` reports per layer.
    pub fn run_cpu_timed(
        &self,
        input: &Tensor,
        fast: bool,
        timed: &mut dyn FnMut(usize, std::time::Duration),
    ) -> Result<Tensor> {
        self.forward(input, fast, timed)
    }

    fn forward(
        &self,
        input: &Tensor,
        fast: bool,
        timed: &mut dyn FnMut(usize, std::time::Duration),
    ) -> Result<Tensor> {
        self.check_input(input.shape())?;
        let mut x = input.clone();
        for (i, l) in self.layers.iter().enumerate().skip(1) {
            let started = std::time::Instant::now();
            let w = &self.weights[i];
            let batch = x.shape()[0];
            let mut out_shape = vec![batch];
            out_shape.extend_from_slice(&self.shapes[i]);
            x = match &l.layer {
                Layer::Input(_) | Layer::Dropout => x,
                Layer::Conv2d { spec, softmax } => {
                    let y = if fast {
                        cpu::conv2d(spec, &x, &w[0], w.get(1))?
                    } else {
                        reference::conv2d(spec, &x, &w[0], w.get(1))?
                    };
                    if *softmax {
                        reference::softmax(&y)?
                    } else {
                        y
                    }
                }
                Layer::MaxPool2d(spec) => reference::max_pool2d(spec, &x)?,
                Layer::AvgPool2d(spec) => reference::avg_pool2d(spec, &x)?,
                Layer::GlobalMaxPool2d { .. } => {
                    reference::max_pool2d(&global(&x), &x)?.reshape(out_shape)?
                }
                Layer::GlobalAvgPool2d { .. } => {
                    reference::avg_pool2d(&global(&x), &x)?.reshape(out_shape)?
                }
                Layer::Flatten => x.reshape(out_shape)?,
                Layer::Dense {
                    use_bias,
                    activation,
                    ..
                } => {
                    let bias = if *use_bias { w.get(1) } else { None };
                    let y = if fast {
                        cpu::dense(&x, &w[0], bias, activation.elementwise())?
                    } else {
                        reference::dense(&x, &w[0], bias, activation.elementwise())?
                    };
                    if *activation == LayerActivation::Softmax {
                        reference::softmax(&y)?
                    } else {
                        y
                    }
                }
                Layer::Activation(LayerActivation::Softmax) => reference::softmax(&x)?,
                Layer::Activation(a) => {
                    let f = a.elementwise();
                    let data = x
                        .data()
                        .iter()
                        .map(|&v| f.apply(f64::from(v)) as f32)
                        .collect();
                    Tensor::new(x.shape().to_vec(), data)?
                }
                Layer::Relu(spec) => {
                    let data = x.data().iter().map(|&v| spec.apply(v)).collect();
                    Tensor::new(x.shape().to_vec(), data)?
                }
                Layer::ZeroPadding2d(padding) => reference::zero_padding2d(&x, *padding)?,
                Layer::BatchNorm {
                    epsilon,
                    center,
                    scale,
                } => {
                    let mut it = w.iter();
                    let gamma = if *scale { it.next() } else { None };
                    let beta = if *center { it.next() } else { None };
                    let (Some(mean), Some(var)) = (it.next(), it.next()) else {
                        return Err(self.missing_weights(i));
                    };
                    reference::batch_norm(&x, gamma, beta, mean, var, *epsilon)?
                }
            };
            timed(i, started.elapsed());
        }
        Ok(x)
    }
}

/// A pooling window over the whole image: global pooling as a 1×1-output pool.
fn global(x: &Tensor) -> Pool2dSpec {
    let (h, w) = (x.shape()[1], x.shape()[2]);
    Pool2dSpec::new([h, w])
}
