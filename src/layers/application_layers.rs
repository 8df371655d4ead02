//! Small custom layers that keras.applications models define and serialize under their own
//! modules: InceptionResNetV2's `CustomScaleLayer` (`a + b·scale`) and ConvNeXt's `LayerScale`
//! (`x · gamma`, a learned per-channel scale).

use super::config::Config;
use super::shapes::last;
use super::{weight, Layer, WeightSpec};
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_binary, emit_unary, BinaryOp, Operand, Unary};
use crate::gpu::Lowering;
use crate::reference;
use crate::tensor::Tensor;

/// InceptionResNetV2's `CustomScaleLayer(scale)`: `inputs[0] + inputs[1] · scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomScaleLayer {
    /// The residual's scale.
    pub scale: f32,
}

impl CustomScaleLayer {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["scale"])?;
        Ok(Self {
            scale: c
                .f64("scale")?
                .ok_or_else(|| c.error("'scale' is missing"))? as f32,
        })
    }
}

impl Layer for CustomScaleLayer {
    fn class_name(&self) -> &'static str {
        "CustomScaleLayer"
    }

    fn arity(&self) -> (usize, usize) {
        (2, 2)
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        if inputs[0] != inputs[1] {
            return Err(Error::ShapeMismatch {
                op: "custom_scale_layer",
                what: "inputs",
                expected: format!("two inputs of shape {:?}", inputs[0]),
                actual: inputs[1].to_vec(),
            });
        }
        Ok(inputs[0].to_vec())
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        vec![format!("a + b · {}; params = 0", self.scale)]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let s = f64::from(self.scale);
        // Keras rounds b · scale to float32 before the add.
        reference::binary(inputs[0], inputs[1], |a, b| a + f64::from((b * s) as f32))
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let (a, b) = (l.input(0), l.input(1));
        let shape = l.input_shape(1).to_vec();
        let scaled = l.temp(&shape)?;
        let mut unary = Unary::activation(crate::activation::Activation::Linear);
        // Keras multiplies only; the shader's `x·s + 0` would turn −0.0 into +0.0, so a scale of
        // one is left out altogether.
        unary.scalar = (self.scale != 1.0).then_some((self.scale, 0.0));
        emit_unary(l.builder(), unary, b, scaled)?;
        let out = l.output()?;
        emit_binary(
            l.builder(),
            BinaryOp::Add,
            Some(a),
            Operand::Value(scaled),
            out,
            1.0,
        )
    }
}

/// ConvNeXt's `LayerScale(init_values, projection_dim)`: `x · gamma` per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerScale {
    /// Channels.
    pub projection_dim: usize,
}

impl LayerScale {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["init_values", "projection_dim"])?;
        Ok(Self {
            projection_dim: c.positive("projection_dim", None)?,
        })
    }
}

impl Layer for LayerScale {
    fn class_name(&self) -> &'static str {
        "LayerScale"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let c = last("layer_scale", inputs[0])?;
        if c != self.projection_dim {
            return Err(Error::ShapeMismatch {
                op: "layer_scale",
                what: "input",
                expected: format!("{} channels (projection_dim)", self.projection_dim),
                actual: inputs[0].to_vec(),
            });
        }
        Ok(inputs[0].to_vec())
    }

    fn weights(&self, _inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        // Keras creates it with `add_weight` and no name.
        Ok(vec![WeightSpec::trainable(
            "variable",
            vec![self.projection_dim],
        )])
    }

    fn explain(&self, _inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        vec![format!("x · gamma; params = {}", self.projection_dim)]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let gamma = weight(weights, 0)?;
        let c = self.projection_dim;
        let data = x
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| (f64::from(v) * f64::from(gamma.data()[i % c])) as f32)
            .collect();
        Tensor::new(x.shape().to_vec(), data)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let gamma = l.upload("gamma", |w| Ok(weight(w, 0)?.data().to_vec()))?;
        let x = l.input(0);
        let out = l.output()?;
        let c = self.projection_dim;
        emit_binary(
            l.builder(),
            BinaryOp::Multiply,
            Some(x),
            Operand::Weight(gamma, vec![c]),
            out,
            1.0,
        )
    }
}
