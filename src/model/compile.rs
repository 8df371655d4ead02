//! A model compiled for one device: every node lowered to kernels once, weights uploaded once,
//! activation buffers shared by liveness, one command buffer and one readback per batch chunk.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::fuse::Fusion;
use super::graph::{LayerOp, TensorRef};
use super::Model;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Lowering, Memory, Program, ProgramBuilder, StepTime, Value, WeightCache};
use crate::tensor::{Tensor, TensorView};

/// A model compiled for one device (see [`Model::compile_async`]): run it as often as needed;
/// nothing is allocated per call. Running takes `&mut self` because the buffers are reused.
#[derive(Debug)]
pub struct GpuModel<'g> {
    program: Program<'g>,
    input_names: Vec<String>,
    input_shapes: Vec<Vec<usize>>,
    output_shapes: Vec<Vec<usize>>,
}

/// A model lowered for one device ([`Model::lower_async`]): weights uploaded, each layer's
/// kernels chosen (autotuned, where that is on) and its dispatches recorded, but no pipeline
/// compiled yet; [`LoweredModel::compile_async`] finishes it. [`Model::compile_async`] does
/// both. The steps are apart so that a caller can report them apart: the first start on an
/// adapter spends its time measuring kernels, later starts (choices cached) compiling
/// pipelines, which the pipeline cache can shorten where the driver's cache holds compiled
/// code ([`crate::Gpu::pipeline_cache`]).
#[derive(Debug)]
pub struct LoweredModel<'g> {
    builder: ProgramBuilder<'g>,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
    max_batch: usize,
    input_names: Vec<String>,
    input_shapes: Vec<Vec<usize>>,
    output_shapes: Vec<Vec<usize>>,
}

impl Model {
    /// Uploads the weights and records every node's kernels for batches of up to `max_batch`
    /// examples per chunk (fewer if the device's limits demand it; larger inputs run in
    /// several chunks). Blocking wrapper of [`Model::compile_async`].
    #[cfg(feature = "native")]
    pub fn compile<'g>(&self, gpu: &'g Gpu, max_batch: usize) -> Result<GpuModel<'g>> {
        pollster::block_on(self.compile_async(gpu, max_batch))
    }

    /// Uploads the weights and records every node's kernels for batches of up to `max_batch`
    /// examples per chunk (fewer if the device's limits demand it; larger inputs run in
    /// several chunks): [`Model::lower_async`], then [`LoweredModel::compile_async`].
    ///
    /// With autotuning on (native only, see [`crate::GpuOptions::autotune`]), the first
    /// compile of a new Conv2D shape measures its kernels and blocks the calling thread
    /// meanwhile.
    pub async fn compile_async<'g>(&self, gpu: &'g Gpu, max_batch: usize) -> Result<GpuModel<'g>> {
        self.lower_async(gpu, max_batch)
            .await?
            .compile_async()
            .await
    }

    /// The first step of [`Model::compile`]: uploads the weights, chooses every layer's
    /// kernels and records them. Blocking wrapper of [`Model::lower_async`].
    #[cfg(feature = "native")]
    pub fn lower<'g>(&self, gpu: &'g Gpu, max_batch: usize) -> Result<LoweredModel<'g>> {
        pollster::block_on(self.lower_async(gpu, max_batch))
    }

    /// The first step of [`Model::compile_async`]: uploads the weights, chooses every layer's
    /// kernels and records them, for batches of up to `max_batch` examples per chunk.
    ///
    /// With autotuning on (native only, see [`crate::GpuOptions::autotune`]), a Conv2D shape
    /// new to the adapter has its kernels measured here (compiling their pipelines), which
    /// blocks the calling thread meanwhile; shapes whose choice is cached cost nothing.
    pub async fn lower_async<'g>(
        &self,
        gpu: &'g Gpu,
        max_batch: usize,
    ) -> Result<LoweredModel<'g>> {
        self.check_computable()?;
        let input_shapes = self.input_shapes();
        let probe: Vec<Vec<usize>> = input_shapes
            .iter()
            .map(|s| [&[1][..], s].concat())
            .collect();
        let refs: Vec<&[usize]> = probe.iter().map(Vec::as_slice).collect();
        self.check_inputs(&refs)?;
        // Kernels are tuned for a full chunk: as many examples as the largest tensor allows.
        let widest = self.widest_tensor().max(1) as u64 * 4;
        let limit = gpu.limits().max_storage_buffer_binding_size;
        let tune_batch = ((limit / widest).max(1) as usize).min(max_batch.max(1));
        let mut builder = ProgramBuilder::new(gpu);
        let inputs = input_shapes
            .iter()
            .map(|s| builder.input(s))
            .collect::<Result<Vec<_>>>()?;
        let mut cache = WeightCache::new();
        let outputs = lower_graph(self, &mut builder, &inputs, &mut cache, tune_batch, "")?;
        Ok(LoweredModel {
            builder,
            inputs,
            outputs,
            max_batch,
            input_names: self.inputs().iter().map(|(n, _)| n.to_string()).collect(),
            input_shapes,
            output_shapes: self.output_shapes(),
        })
    }

    /// The largest tensor of one example, in values (nested models included).
    fn widest_tensor(&self) -> usize {
        self.graph
            .nodes
            .iter()
            .zip(&self.graph.layers)
            .map(|(n, _)| {
                n.outputs
                    .iter()
                    .map(|s| s.iter().product())
                    .max()
                    .unwrap_or(0)
            })
            .chain(self.graph.layers.iter().filter_map(|l| match &l.op {
                LayerOp::Model(m) => Some(m.widest_tensor()),
                _ => None,
            }))
            .max()
            .unwrap_or(0)
    }
}

/// Lowers `model`'s nodes into `b`, reading `inputs`; returns its outputs. Nested models are
/// lowered inline, their layers labelled `outer/inner (Class)`.
fn lower_graph(
    model: &Model,
    b: &mut ProgramBuilder<'_>,
    inputs: &[Value],
    cache: &mut WeightCache,
    tune_batch: usize,
    prefix: &str,
) -> Result<Vec<Value>> {
    let g = &model.graph;
    let mut values: HashMap<TensorRef, Value> = HashMap::new();
    // BatchNormalization and activations after a convolution or Dense run in its epilogue.
    let fusions = super::fuse::plan(model, true)?;
    let absorbed: HashSet<usize> = fusions
        .values()
        .flat_map(|f| f.absorbed.iter().copied())
        .collect();
    let placed = plan_channel_slices(model, &fusions);
    // ZeroPadding2D before a convolution: a zero-padded view of its input, no pass.
    let folds = super::fuse::zero_padding_folds(model);
    // Which model input each input node is (a map: a model may have thousands).
    let mut input_slot: HashMap<usize, usize> = HashMap::new();
    for (k, r) in g.inputs.iter().enumerate() {
        input_slot.entry(r.node).or_insert(k);
    }
    // The outputs of Concatenates that producers write into, created when first needed.
    let mut wholes: HashMap<usize, Value> = HashMap::new();
    for &i in &g.order {
        if absorbed.contains(&i) {
            continue;
        }
        // (A channel slice cannot be viewed padded: such an input is padded as usual.)
        let fold = folds.get(&i).and_then(|&(padding, _)| {
            let x = values.get(&g.nodes[i].inputs[0]).copied()?;
            b.is_dense(x).then_some((x, padding))
        });
        if let Some((x, padding)) = fold {
            let padded = b.zero_padded(x, padding)?;
            values.insert(TensorRef { node: i, index: 0 }, padded);
            continue;
        }
        let fusion = fusions.get(&i);
        // The node whose output this step writes.
        let out_node = fusion.map_or(i, |f| f.last);
        let node = &g.nodes[i];
        let entry = &g.layers[node.layer];
        let label = match fusion {
            Some(f) => {
                let names: Vec<String> = f
                    .absorbed
                    .iter()
                    .map(|&a| g.layers[g.nodes[a].layer].name.clone())
                    .collect();
                format!("{prefix}{} + {}", entry.label(), names.join(" + "))
            }
            None => format!("{prefix}{}", entry.label()),
        };
        // A fused Add's other input comes last.
        let xs: Vec<Value> = node
            .inputs
            .iter()
            .chain(fusion.and_then(|f| f.residual.as_ref()))
            .map(|r| values.get(r).copied())
            .collect::<Option<_>>()
            .ok_or_else(|| Error::Internal {
                op: "model",
                message: format!("{label}: an input was not lowered"),
            })?;
        // Where this node must write: a slice of a Concatenate's output, or that output.
        let mut whole = |b: &mut ProgramBuilder<'_>, concat: usize| -> Result<Value> {
            if let Some(&v) = wholes.get(&concat) {
                return Ok(v);
            }
            let c = &g.nodes[concat];
            b.set_label(format!("{prefix}{}", g.layers[c.layer].label()));
            let v = b.value(&c.outputs[0])?;
            wholes.insert(concat, v);
            Ok(v)
        };
        let out_shape = &g.nodes[out_node].outputs[0];
        let target = match placed.get(&TensorRef {
            node: out_node,
            index: 0,
        }) {
            Some(&(concat, offset)) => {
                let w = whole(b, concat)?;
                Some(b.channel_slice(w, offset, out_shape)?)
            }
            None if wholes.contains_key(&i) => wholes.get(&i).copied(),
            None => None,
        };
        let outs = match &entry.op {
            LayerOp::Input(_) => {
                let k = input_slot
                    .get(&i)
                    .copied()
                    .ok_or_else(|| Error::ModelConfig {
                        layer: label.clone(),
                        message: "an input layer that is not one of the model's inputs".into(),
                    })?;
                vec![inputs[k]]
            }
            LayerOp::Layer(layer) => {
                b.set_label(label.clone());
                // Shared layers upload their weights once: the cache is keyed by the entry.
                let key = entry as *const _ as usize;
                let mut l = Lowering::new(
                    b,
                    &xs,
                    out_shape,
                    target,
                    &entry.weights,
                    cache,
                    key,
                    tune_batch,
                );
                match fusion {
                    Some(f) => layer.lower_fused(&mut l, &f.epilogue),
                    None => layer.lower(&mut l),
                }
                .map_err(|e| e.in_layer(label.clone()))?;
                let out = l.finish().ok_or_else(|| Error::Internal {
                    op: "model",
                    message: format!("{label} wrote no output"),
                })?;
                vec![out]
            }
            LayerOp::Opaque(_) => return Err(entry.cannot_run()),
            LayerOp::Model(m) => lower_graph(
                m,
                b,
                &xs,
                cache,
                tune_batch,
                &format!("{prefix}{}/", entry.name),
            )?,
        };
        for (k, v) in outs.into_iter().enumerate() {
            values.insert(
                TensorRef {
                    node: out_node,
                    index: k,
                },
                v,
            );
        }
    }
    g.outputs
        .iter()
        .map(|r| {
            values.get(r).copied().ok_or_else(|| Error::Internal {
                op: "model",
                message: "a model output was not lowered".into(),
            })
        })
        .collect()
}

/// Producers a Concatenate along the channels can have write straight into its output: the
/// tensor must be read by the Concatenate alone, not be a model output, and come from a layer
/// that can write channel slices. Returns, per placed tensor, the Concatenate's node and the
/// channel where the tensor starts. A fused chain's output is written by its producer.
fn plan_channel_slices(
    model: &Model,
    fusions: &HashMap<usize, Fusion>,
) -> HashMap<TensorRef, (usize, usize)> {
    let fused_by: HashMap<usize, usize> = fusions.iter().map(|(&p, f)| (f.last, p)).collect();
    let g = &model.graph;
    let mut readers: HashMap<TensorRef, usize> = HashMap::new();
    for node in &g.nodes {
        for r in &node.inputs {
            *readers.entry(*r).or_default() += 1;
        }
    }
    let outputs: HashSet<TensorRef> = g.outputs.iter().copied().collect();
    let mut placed = HashMap::new();
    for &i in &g.order {
        let node = &g.nodes[i];
        let LayerOp::Layer(layer) = &g.layers[node.layer].op else {
            continue;
        };
        let Some(offsets) = layer.channel_slices(&g.input_shapes(i)) else {
            continue;
        };
        for (r, offset) in node.inputs.iter().zip(offsets) {
            let writer = fused_by.get(&r.node).copied().unwrap_or(r.node);
            let producer = &g.layers[g.nodes[writer].layer];
            let writes_slices =
                matches!(&producer.op, LayerOp::Layer(p) if p.writes_channel_slices());
            if writes_slices && r.index == 0 && readers.get(r) == Some(&1) && !outputs.contains(r) {
                placed.insert(*r, (i, offset));
            }
        }
    }
    placed
}

impl<'g> LoweredModel<'g> {
    /// The second step of [`Model::compile`]: compiles the pipelines of the kernels recorded
    /// (those the device has not compiled yet), allocates the activation buffers and binds
    /// them. Blocking wrapper of [`LoweredModel::compile_async`].
    #[cfg(feature = "native")]
    pub fn compile(self) -> Result<GpuModel<'g>> {
        pollster::block_on(self.compile_async())
    }

    /// The second step of [`Model::compile_async`]: compiles the pipelines of the kernels
    /// recorded (those the device has not compiled yet), allocates the activation buffers and
    /// binds them. Newly compiled pipelines are then saved to the pipeline cache, where the
    /// device keeps one ([`crate::GpuOptions::pipeline_cache_dir`]).
    pub async fn compile_async(self) -> Result<GpuModel<'g>> {
        let gpu = self.builder.gpu();
        let program = self
            .builder
            .build_async(&self.inputs, &self.outputs, self.max_batch)
            .await?;
        gpu.save_pipeline_cache();
        Ok(GpuModel {
            program,
            input_names: self.input_names,
            input_shapes: self.input_shapes,
            output_shapes: self.output_shapes,
        })
    }
}

impl GpuModel<'_> {
    /// Examples per dispatch round.
    pub fn chunk_size(&self) -> usize {
        self.program.chunk_size()
    }

    /// Device memory the compiled model holds (weights, activation buffers shared by liveness,
    /// the readback buffer).
    pub fn memory(&self) -> Memory {
        self.program.memory()
    }

    /// Compute dispatches per chunk.
    pub fn dispatches(&self) -> usize {
        self.program.dispatches()
    }

    /// Runs a single-input, single-output model on `input` (`(batch, ..input_shape)`), in
    /// chunks of at most [`GpuModel::chunk_size`] examples. Blocking wrapper of
    /// [`GpuModel::run_async`].
    #[cfg(feature = "native")]
    pub fn run(&mut self, input: &Tensor) -> Result<Tensor> {
        pollster::block_on(self.run_async(input))
    }

    /// Runs the model on one tensor per input; returns one per output. Blocking wrapper of
    /// [`GpuModel::run_many_async`].
    #[cfg(feature = "native")]
    pub fn run_many(&mut self, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
        pollster::block_on(self.run_many_async(inputs))
    }

    /// Runs a single-input, single-output model on `input` (`(batch, ..input_shape)`), in
    /// chunks of at most [`GpuModel::chunk_size`] examples.
    pub async fn run_async(&mut self, input: &Tensor) -> Result<Tensor> {
        single(self.run_many_async(&[input]).await?)
    }

    /// Runs the model on one tensor per input; returns one per output.
    pub async fn run_many_async(&mut self, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
        let views: Vec<TensorView<'_>> = inputs.iter().map(|&t| t.into()).collect();
        self.run_views_async(&views).await
    }

    /// [`GpuModel::run_many`] on borrowed data: the inputs go from where they are (a numpy
    /// array, say) straight to the device, with no copy into a [`Tensor`] first. Blocking
    /// wrapper of [`GpuModel::run_views_async`].
    #[cfg(feature = "native")]
    pub fn run_views(&mut self, inputs: &[TensorView<'_>]) -> Result<Vec<Tensor>> {
        pollster::block_on(self.run_views_async(inputs))
    }

    /// [`GpuModel::run_many_async`] on borrowed data.
    pub async fn run_views_async(&mut self, inputs: &[TensorView<'_>]) -> Result<Vec<Tensor>> {
        let batch = self.check(inputs)?;
        let data: Vec<&[f32]> = inputs.iter().map(TensorView::data).collect();
        let outs = self.program.run_async(&data, batch).await?;
        self.tensors(outs, batch)
    }

    fn check(&self, inputs: &[TensorView<'_>]) -> Result<usize> {
        if inputs.len() != self.input_shapes.len() {
            return Err(Error::ShapeMismatch {
                op: "model",
                what: "inputs",
                expected: format!("{} inputs", self.input_shapes.len()),
                actual: vec![inputs.len()],
            });
        }
        let mut batch = None;
        for ((t, shape), name) in inputs.iter().zip(&self.input_shapes).zip(&self.input_names) {
            let b = super::batch_size(name, shape, t.shape())?;
            if *batch.get_or_insert(b) != b {
                return Err(Error::ShapeMismatch {
                    op: "model",
                    what: "inputs",
                    expected: "one batch size for all inputs".into(),
                    actual: t.shape().to_vec(),
                });
            }
        }
        Ok(batch.unwrap_or(0))
    }

    fn tensors(&self, outs: Vec<Vec<f32>>, batch: usize) -> Result<Vec<Tensor>> {
        outs.into_iter()
            .zip(&self.output_shapes)
            .map(|(data, shape)| Tensor::new([&[batch][..], shape].concat(), data))
            .collect()
    }

    /// Uploads `inputs` (at most [`GpuModel::chunk_size`] examples) for
    /// [`GpuModel::run_loaded_async`]: what a benchmark does to time the device work alone.
    pub fn load(&mut self, inputs: &[&Tensor]) -> Result<()> {
        let views: Vec<TensorView<'_>> = inputs.iter().map(|&t| t.into()).collect();
        let batch = self.check(&views)?;
        let data: Vec<&[f32]> = inputs.iter().map(|t| t.data()).collect();
        self.program.load(&data, batch)
    }

    /// Runs the examples last loaded (or the last chunk [`GpuModel::run`] processed). Blocking
    /// wrapper of [`GpuModel::run_loaded_async`].
    #[cfg(feature = "native")]
    pub fn run_loaded(&mut self) -> Result<Vec<Tensor>> {
        pollster::block_on(self.run_loaded_async())
    }

    /// Runs the examples last loaded (or the last chunk [`GpuModel::run_async`] processed).
    pub async fn run_loaded_async(&mut self) -> Result<Vec<Tensor>> {
        let batch = self.program.loaded();
        let outs = self.program.run_loaded_async().await?;
        self.tensors(outs, batch)
    }

    /// The device's own time for one run of the loaded input (timestamp queries around the
    /// whole forward pass, nothing read back), or `None` where the adapter has no timestamp
    /// queries. Blocking wrapper of [`GpuModel::time_loaded_async`].
    #[cfg(feature = "native")]
    pub fn time_loaded(&mut self) -> Result<Option<Duration>> {
        self.program.time_loaded()
    }

    /// The device's own time for one run of the loaded input (see [`GpuModel::time_loaded`]).
    pub async fn time_loaded_async(&mut self) -> Result<Option<Duration>> {
        self.program.time_loaded_async().await
    }

    /// Times every dispatch alone on the loaded input, on the host and (where the adapter has
    /// timestamp queries) on the device, in order; a layer with several dispatches appears
    /// once per dispatch. Blocking wrapper of [`GpuModel::profile_loaded_async`].
    #[cfg(feature = "native")]
    pub fn profile_loaded(&mut self) -> Result<Vec<StepTime>> {
        self.program.profile_loaded()
    }

    /// Times every dispatch alone on the loaded input (see [`GpuModel::profile_loaded`]).
    pub async fn profile_loaded_async(&mut self) -> Result<Vec<StepTime>> {
        self.program.profile_loaded_async().await
    }
}

fn single(mut outs: Vec<Tensor>) -> Result<Tensor> {
    if outs.len() != 1 {
        return Err(Error::ShapeMismatch {
            op: "model",
            what: "outputs",
            expected: "one output (use run_many for several)".into(),
            actual: vec![outs.len()],
        });
    }
    Ok(outs.remove(0))
}
