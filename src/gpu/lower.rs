//! What a layer sees while it lowers itself to GPU kernels: its input values, its output value,
//! its weights, and the program being recorded. One [`Lowering`] per graph node.

use std::collections::HashMap;

use super::program::{ProgramBuilder, Value, Weight};
use super::Gpu;
use crate::error::Result;
use crate::tensor::Tensor;

/// Uploaded weights, by layer and key: a layer called several times (shared weights) uploads
/// them once.
pub(crate) type WeightCache = HashMap<(usize, String), Weight>;

/// One node's view of the program being recorded (see [`crate::layers::Layer::lower`]).
pub struct Lowering<'b, 'g> {
    builder: &'b mut ProgramBuilder<'g>,
    inputs: &'b [Value],
    output_shape: &'b [usize],
    output: Option<Value>,
    weights: &'b [Tensor],
    cache: &'b mut WeightCache,
    layer: usize,
    tune_batch: usize,
}

impl std::fmt::Debug for Lowering<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lowering")
            .field("inputs", &self.inputs)
            .field("output_shape", &self.output_shape)
            .finish_non_exhaustive()
    }
}

impl<'b, 'g> Lowering<'b, 'g> {
    /// A lowering context for one node. `output` is the value the node must write when the
    /// graph has already placed it (a channel slice of a Concatenate's output), else `None`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        builder: &'b mut ProgramBuilder<'g>,
        inputs: &'b [Value],
        output_shape: &'b [usize],
        output: Option<Value>,
        weights: &'b [Tensor],
        cache: &'b mut WeightCache,
        layer: usize,
        tune_batch: usize,
    ) -> Self {
        Self {
            builder,
            inputs,
            output_shape,
            output,
            weights,
            cache,
            layer,
            tune_batch,
        }
    }

    /// The device.
    pub fn gpu(&self) -> &'g Gpu {
        self.builder.gpu()
    }

    /// The program being recorded.
    pub(crate) fn builder(&mut self) -> &mut ProgramBuilder<'g> {
        self.builder
    }

    /// Input `i`.
    pub(crate) fn input(&self, i: usize) -> Value {
        self.inputs[i]
    }

    /// How many inputs the node reads.
    pub(crate) fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Input `i`'s per-example shape.
    pub(crate) fn input_shape(&self, i: usize) -> &[usize] {
        self.builder.shape(self.inputs[i])
    }

    /// The node's per-example output shape.
    pub(crate) fn output_shape(&self) -> &[usize] {
        self.output_shape
    }

    /// The layer's weights, in Keras's order.
    pub(crate) fn weights(&self) -> &'b [Tensor] {
        self.weights
    }

    /// The batch size Conv2D kernels are autotuned for.
    pub(crate) fn tune_batch(&self) -> usize {
        self.tune_batch
    }

    /// The value the node writes (created on first call unless the graph placed it).
    pub(crate) fn output(&mut self) -> Result<Value> {
        if let Some(v) = self.output {
            return Ok(v);
        }
        let v = self.builder.value(self.output_shape)?;
        self.output = Some(v);
        Ok(v)
    }

    /// Makes the output `v` reshaped, without a copy (Flatten, Reshape, inference no-ops).
    pub(crate) fn alias_output(&mut self, v: Value) -> Result<()> {
        let view = self.builder.view(v, self.output_shape)?;
        self.output = Some(view);
        Ok(())
    }

    /// A scratch value of per-example `shape`.
    pub(crate) fn temp(&mut self, shape: &[usize]) -> Result<Value> {
        self.builder.value(shape)
    }

    /// Uploads weights derived from the layer's (`make`), once per layer and `key`.
    pub(crate) fn upload(
        &mut self,
        key: &str,
        make: impl FnOnce(&[Tensor]) -> Result<Vec<f32>>,
    ) -> Result<Weight> {
        let cache_key = (self.layer, key.to_string());
        if let Some(&w) = self.cache.get(&cache_key) {
            return Ok(w);
        }
        let data = make(self.weights)?;
        let w = self.builder.weight(key, &data)?;
        self.cache.insert(cache_key, w);
        Ok(w)
    }

    /// The node's output value, after lowering.
    pub(crate) fn finish(self) -> Option<Value> {
        self.output
    }
}
