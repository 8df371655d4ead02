//! Keras `BatchNormalization` at inference, over the last axis, from the moving statistics.

use super::config::Config;
use super::shapes::last;
use super::{weight, EpilogueStep, Layer, WeightSpec};
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_unary, Unary};
use crate::gpu::Lowering;
use crate::tensor::Tensor;
use crate::{activation::Activation, reference};

/// `BatchNormalization(axis=-1, epsilon, center, scale)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormalization {
    /// Added to the variance.
    pub epsilon: f64,
    /// Whether `beta` exists.
    pub center: bool,
    /// Whether `gamma` exists.
    pub scale: bool,
    axis: i64,
}

impl BatchNormalization {
    /// Keras's defaults: epsilon 1e-3, with gamma and beta.
    pub fn new() -> Self {
        Self {
            epsilon: 1e-3,
            center: true,
            scale: true,
            axis: -1,
        }
    }

    /// Without `beta` (`center=False`) or `gamma` (`scale=False`).
    pub fn with(mut self, center: bool, scale: bool) -> Self {
        self.center = center;
        self.scale = scale;
        self
    }

    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["axis", "epsilon", "center", "scale"])?;
        Ok(Self {
            epsilon: c.f64_or("epsilon", 1e-3)?,
            center: c.bool("center", true)?,
            scale: c.bool("scale", true)?,
            axis: c.axis_value("axis", -1)?,
        })
    }

    /// `(gamma, beta, mean, variance)` out of the weights in Keras's order.
    fn parts<'w>(
        &self,
        w: &'w [Tensor],
    ) -> Result<(
        Option<&'w Tensor>,
        Option<&'w Tensor>,
        &'w Tensor,
        &'w Tensor,
    )> {
        let mut i = 0;
        let mut next = || {
            i += 1;
            weight(w, i - 1)
        };
        let gamma = if self.scale { Some(next()?) } else { None };
        let beta = if self.center { Some(next()?) } else { None };
        Ok((gamma, beta, next()?, next()?))
    }

    /// Inference as `x·scale + shift` per channel, folded in f64 as JAX computes it:
    /// `scale = gamma / sqrt(var + eps)`, `shift = beta − mean·scale`.
    pub(crate) fn folded(&self, w: &[Tensor]) -> Result<(Vec<f32>, Vec<f32>)> {
        let (gamma, beta, mean, var) = self.parts(w)?;
        let at = |t: Option<&Tensor>, c: usize, default: f64| {
            t.map_or(default, |t| f64::from(t.data()[c]))
        };
        Ok((0..mean.data().len())
            .map(|c| {
                let inv = variance_plus_epsilon(var.data()[c], self.epsilon)
                    .sqrt()
                    .recip()
                    * at(gamma, c, 1.0);
                let shift = at(beta, c, 0.0) - at(Some(mean), c, 0.0) * inv;
                (inv as f32, shift as f32)
            })
            .unzip())
    }
}

/// `variance + epsilon` as Keras adds them: in float32, so a variance of exactly −epsilon gives
/// 0 (and an infinite scale) where an f64 sum would be slightly negative (and NaN).
fn variance_plus_epsilon(variance: f32, epsilon: f64) -> f64 {
    f64::from(variance + epsilon as f32)
}

impl Default for BatchNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for BatchNormalization {
    fn class_name(&self) -> &'static str {
        "BatchNormalization"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let rank = inputs[0].len() as i64;
        last("batch_normalization", inputs[0])?;
        if self.axis != -1 && self.axis != rank {
            return Err(Error::InvalidConfig {
                op: "batch_normalization",
                reason: format!("axis {} is not supported (only the last axis)", self.axis),
            });
        }
        Ok(inputs[0].to_vec())
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let c = vec![last("batch_normalization", inputs[0])?];
        let mut w = Vec::new();
        if self.scale {
            w.push(WeightSpec::trainable("gamma", c.clone()));
        }
        if self.center {
            w.push(WeightSpec::trainable("beta", c.clone()));
        }
        w.push(WeightSpec::frozen("moving_mean", c.clone()));
        w.push(WeightSpec::frozen("moving_variance", c));
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let c = inputs[0].last().copied().unwrap_or(0);
        let trainable = usize::from(self.center) + usize::from(self.scale);
        vec![format!(
            "params = {} × {c} = {}  ({} trainable: gamma/beta; {} non-trainable: moving mean, variance)",
            trainable + 2,
            (trainable + 2).saturating_mul(c),
            trainable.saturating_mul(c),
            2usize.saturating_mul(c)
        )]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let (gamma, beta, mean, var) = self.parts(weights)?;
        reference::batch_norm(inputs[0], gamma, beta, mean, var, self.epsilon)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        let (scale, shift) = self.folded(weights)?;
        crate::cpu::affine(inputs[0], &scale, &shift, Activation::Linear)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let this = *self;
        let scale = l.upload("scale", |w| Ok(this.folded(w)?.0))?;
        let shift = l.upload("shift", |w| Ok(this.folded(w)?.1))?;
        let x = l.input(0);
        let out = l.output()?;
        let mut unary = Unary::activation(Activation::Linear);
        unary.per_channel = Some((scale, shift));
        emit_unary(l.builder(), unary, x, out)
    }

    fn writes_channel_slices(&self) -> bool {
        true
    }

    fn as_epilogue(&self, weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        Some(
            self.folded(weights)
                .map(|(scale, shift)| EpilogueStep::Affine(scale, shift)),
        )
    }
}
