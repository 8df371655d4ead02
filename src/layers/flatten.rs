//! Keras `Flatten`: every axis but the batch into one.

use super::config::Config;
use super::shapes::product;
use super::Layer;
use crate::error::Result;
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// `Flatten()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flatten;

impl Flatten {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["data_format"])?;
        c.channels_last()?;
        Ok(Self)
    }
}

impl Layer for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        Ok(vec![product("flatten", inputs[0])?])
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let factors: Vec<String> = inputs[0].iter().map(usize::to_string).collect();
        vec![
            format!("out = {} = {}", factors.join(" × "), output[0]),
            "params = 0".into(),
        ]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let n = x.shape().first().copied().unwrap_or(1);
        x.clone().reshape(vec![n, x.data().len() / n.max(1)])
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let x = l.input(0);
        l.alias_output(x)
    }
}
