//! Keras models: load a `.keras` file, a legacy Keras 2 `.h5` file or an architecture JSON,
//! print Keras's summary, run the forward pass.
//!
//! A model is a graph of [`Node`]s: Sequential models are chains, Functional ones any DAG — several
//! inputs and outputs, merges, shared layers, nested models. Every shape is inferred when the
//! model is built, by the layers themselves ([`crate::layers::Layer`]).

mod compile;
mod formats;
mod fuse;
mod graph;
mod keras_json;
mod legacy_h5;
mod run;
mod steps;
mod summary;
pub mod synthetic;
mod weights;

use std::path::Path;

pub use compile::{GpuModel, LoweredModel};
pub use graph::{InputSpec, LayerEntry, Node, TensorRef};
pub use steps::StepLayers;
pub use summary::{Summary, SummaryRow};

use graph::{Graph, LayerOp};

use crate::error::{Error, Result};
use crate::layers::Layer;
use crate::tensor::Tensor;

/// Where [`Model::run`] computes: one type for the library, the CLI and the Python package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// WGSL compute shaders on the default device (`Gpu::shared`; with the `native` feature).
    #[default]
    Gpu,
    /// The fast CPU backend (multi-threaded SIMD GEMMs; with the `native` feature).
    Cpu,
    /// The CPU reference (plain loops, f64 accumulation): slow, obviously correct.
    Reference,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::Gpu, Backend::Cpu, Backend::Reference];

    /// The name the CLI and Python use.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Gpu => "gpu",
            Backend::Cpu => "cpu",
            Backend::Reference => "reference",
        }
    }
}

/// What `auto` picks, and why when it is not the GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoBackend {
    /// The backend.
    pub backend: Backend,
    /// Why the GPU was passed over (`None`: the GPU is a hardware adapter).
    pub note: Option<String>,
    /// Whether a software adapter was found (and passed over): `gpu` would run on it.
    pub software_adapter: bool,
}

impl Backend {
    /// The backend `auto` means (the CLI's and the Python package's default): the GPU when
    /// the default adapter is hardware, else the fast CPU backend — a software adapter runs
    /// the shaders on the same CPU, several times slower than the CPU backend.
    #[cfg(feature = "native")]
    pub fn auto() -> AutoBackend {
        match crate::gpu::Gpu::shared() {
            Ok(gpu) if gpu.adapter_info().device_type != wgpu::DeviceType::Cpu => AutoBackend {
                backend: Backend::Gpu,
                note: None,
                software_adapter: false,
            },
            Ok(gpu) => AutoBackend {
                backend: Backend::Cpu,
                note: Some(format!(
                    "only a software GPU adapter ({}): running on the CPU backend",
                    gpu.adapter_info().name
                )),
                software_adapter: true,
            },
            Err(e) => AutoBackend {
                backend: Backend::Cpu,
                note: Some(format!(
                    "no usable GPU adapter ({e}): running on the CPU backend"
                )),
                software_adapter: false,
            },
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend '{s}' (expected gpu, cpu or reference)"))
    }
}

/// A Keras model. Build one with [`Model::load`], [`Model::from_json`] or [`Sequential`].
#[derive(Debug)]
pub struct Model {
    name: String,
    class_name: String,
    trainable: bool,
    /// Whether the config declares the input shape (a nested Sequential may take it from
    /// where it is called); Keras 2 numbers such a model's calls after a call of its own.
    declared_input: bool,
    graph: Graph,
}

impl Model {
    fn new(name: String, class_name: String, trainable: bool, graph: Graph) -> Result<Self> {
        let model = Self {
            name,
            class_name,
            trainable,
            declared_input: true,
            graph: graph.finish()?,
        };
        // Every count the summary prints must be exact: a model whose parameters (or their
        // bytes) overflow is refused here, not printed wrapped or saturated.
        summary::checked_param_count(&model)?;
        Ok(model)
    }

    /// Reads a model: a `.keras` file (architecture and weights), a legacy Keras 2 HDF5 file
    /// (`model.save("m.h5")`), or a JSON architecture (`model.to_json()` or an unzipped
    /// `config.json`; no weights, enough for a summary).
    ///
    /// Other model formats (ONNX, TensorFlow SavedModel and TF.js, PyTorch checkpoints,
    /// safetensors) are named in the error, with how to save a Keras model instead.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let label = path.display().to_string();
        if path.is_dir() {
            return Err(Error::ModelConfig {
                layer: label,
                message: format!("this is {}", formats::folder(path)),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&label, bytes)
    }

    /// Reads a model from the bytes of a file [`Model::load`] reads (a `.keras` archive, a
    /// legacy `.h5`, or architecture JSON), recognised by its first bytes; `label` names it in
    /// errors (a file name: its extension helps recognise other frameworks' formats).
    pub fn from_bytes(label: &str, bytes: Vec<u8>) -> Result<Self> {
        Self::read_bytes(label, bytes).map_err(|e| about_file(label, e))
    }

    fn read_bytes(label: &str, bytes: Vec<u8>) -> Result<Self> {
        if let Some(what) = formats::foreign_file(Path::new(label), &bytes) {
            return Err(Error::ModelConfig {
                layer: label.to_string(),
                message: format!("this is {what}"),
            });
        }
        if bytes.starts_with(b"PK") {
            weights::load_keras_archive(label, &bytes).map_err(|e| {
                match formats::foreign_zip(&bytes) {
                    Some(what) => Error::ModelConfig {
                        layer: label.to_string(),
                        message: format!("this is {what}"),
                    },
                    None => e,
                }
            })
        } else if bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
            legacy_h5::load(label, bytes)
        } else {
            let text = String::from_utf8(bytes).map_err(|_| Error::ModelConfig {
                layer: label.to_string(),
                message: "neither a .keras (zip) file, an HDF5 file nor UTF-8 JSON".into(),
            })?;
            Self::from_json(&text)
        }
    }

    /// Reads a model from the bytes of a `.keras` file (one embedded in a program, say);
    /// `label` names it in errors.
    pub fn from_keras_bytes(label: &str, bytes: &[u8]) -> Result<Self> {
        weights::load_keras_archive(label, bytes).map_err(|e| about_file(label, e))
    }

    /// Builds a model (without weights) from Keras's architecture JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        keras_json::model_from_json(text)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Sequential` or `Functional`.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The layers, in Keras's order (a Sequential model's input layer first, unlisted).
    pub fn layers(&self) -> &[LayerEntry] {
        &self.graph.layers
    }

    /// The nodes (layer calls), in an order where producers come first.
    pub fn nodes(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.graph.order.iter().map(|&i| (i, &self.graph.nodes[i]))
    }

    /// The input shapes of node `i` (per example).
    pub fn node_input_shapes(&self, i: usize) -> Vec<&[usize]> {
        self.graph.input_shapes(i)
    }

    /// The model's inputs: name, shape (per example) and dtype.
    pub fn inputs(&self) -> Vec<(&str, &InputSpec)> {
        self.graph
            .inputs
            .iter()
            .filter_map(|r| {
                let entry = &self.graph.layers[self.graph.nodes[r.node].layer];
                match &entry.op {
                    LayerOp::Input(spec) => Some((entry.name.as_str(), spec)),
                    _ => None,
                }
            })
            .collect()
    }

    /// The per-example input shapes.
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.graph
            .inputs
            .iter()
            .map(|r| self.graph.shape(*r).to_vec())
            .collect()
    }

    /// The per-example output shapes.
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.graph
            .outputs
            .iter()
            .map(|r| self.graph.shape(*r).to_vec())
            .collect()
    }

    /// The names of the layers producing the outputs.
    pub fn output_names(&self) -> Vec<&str> {
        self.graph
            .outputs
            .iter()
            .map(|r| {
                self.graph.layers[self.graph.nodes[r.node].layer]
                    .name
                    .as_str()
            })
            .collect()
    }

    /// The first input's per-example shape.
    pub fn input_shape(&self) -> &[usize] {
        self.graph
            .inputs
            .first()
            .map_or(&[][..], |r| self.graph.shape(*r))
    }

    /// The first output's per-example shape.
    pub fn output_shape(&self) -> &[usize] {
        self.graph
            .outputs
            .first()
            .map_or(&[][..], |r| self.graph.shape(*r))
    }

    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&LayerEntry> {
        self.graph.layers.iter().find(|l| l.name == name)
    }

    /// The weights layer `index` needs (shapes from its first call), in Keras's order.
    pub fn weight_specs(&self, index: usize) -> Result<Vec<crate::layers::WeightSpec>> {
        self.graph.weight_specs(index)
    }

    /// The layers wgcnn cannot compute (`path/name (Class)`, nested models included): classes
    /// it does not know, and built-in layers it only describes ([`Layer::computes`]).
    pub fn layers_that_cannot_run(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in &self.graph.layers {
            match &entry.op {
                LayerOp::Model(m) => out.extend(
                    m.layers_that_cannot_run()
                        .into_iter()
                        .map(|inner| format!("{}/{inner}", entry.name)),
                ),
                LayerOp::Opaque(_) => {
                    out.push(format!("{} (a class wgcnn does not know)", entry.label()))
                }
                LayerOp::Layer(l) if !l.computes() => out.push(entry.label()),
                LayerOp::Layer(_) | LayerOp::Input(_) => {}
            }
        }
        out
    }

    /// Fails with [`Error::CannotRun`], naming every layer at once, when the model holds
    /// layers wgcnn cannot compute.
    fn check_computable(&self) -> Result<()> {
        let layers = self.layers_that_cannot_run();
        if layers.is_empty() {
            return Ok(());
        }
        Err(Error::CannotRun {
            what: format!("model '{}'", self.name),
            layers,
        })
    }

    /// Whether every layer that needs weights has them (nested models included).
    pub fn has_weights(&self) -> bool {
        self.first_without_weights().is_none()
    }

    /// The first layer (as `path/name (Class)`) that needs weights and has none.
    fn first_without_weights(&self) -> Option<String> {
        for (i, entry) in self.graph.layers.iter().enumerate() {
            match &entry.op {
                LayerOp::Model(m) => {
                    if let Some(inner) = m.first_without_weights() {
                        return Some(format!("{}/{inner}", entry.name));
                    }
                }
                LayerOp::Layer(_) => {
                    let needs = self.graph.weight_specs(i).map_or(0, |w| w.len());
                    if needs > 0 && entry.weights.len() != needs {
                        return Some(entry.label());
                    }
                }
                LayerOp::Input(_) | LayerOp::Opaque(_) => {}
            }
        }
        None
    }

    /// Sets the weights of the layer named `name` (a nested model's layer as
    /// `outer/inner`), checking them against the shapes Keras would store.
    pub fn set_weights(&mut self, name: &str, tensors: Vec<Tensor>) -> Result<()> {
        self.set_weights_many(vec![(name.to_string(), tensors)])
    }

    /// [`Model::set_weights`] for many layers at once, finding them through one map of the
    /// layer names: a search per layer made loading a model quadratic in its layers.
    pub(crate) fn set_weights_many(
        &mut self,
        assignments: Vec<(String, Vec<Tensor>)>,
    ) -> Result<()> {
        let mut by_name: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(self.graph.layers.len());
        for (i, l) in self.graph.layers.iter().enumerate() {
            by_name.entry(l.name.as_str()).or_insert(i);
        }
        // `outer/inner` reaches into the nested model `outer`; any other name is a layer here.
        let mut direct = Vec::new();
        let mut nested: std::collections::BTreeMap<usize, Vec<(String, Vec<Tensor>)>> =
            std::collections::BTreeMap::new();
        for (name, tensors) in assignments {
            let outer = name.split_once('/').and_then(|(outer, inner)| {
                let i = *by_name.get(outer)?;
                matches!(self.graph.layers[i].op, LayerOp::Model(_)).then(|| (i, inner.to_string()))
            });
            if let Some((i, inner)) = outer {
                nested.entry(i).or_default().push((inner, tensors));
                continue;
            }
            let index = by_name
                .get(name.as_str())
                .copied()
                .ok_or_else(|| Error::ModelWeights {
                    layer: name.to_string(),
                    message: "no layer of this name".into(),
                })?;
            direct.push((index, tensors));
        }
        for (index, tensors) in direct {
            self.set_weights_at(index, tensors)?;
        }
        for (i, inner) in nested {
            if let LayerOp::Model(m) = &mut self.graph.layers[i].op {
                m.set_weights_many(inner)?;
            }
        }
        Ok(())
    }

    /// Sets the weights of layer `index`, checking them against the shapes Keras would store.
    pub(crate) fn set_weights_at(&mut self, index: usize, tensors: Vec<Tensor>) -> Result<()> {
        let expected = self.graph.weight_specs(index)?;
        let fits = expected.len() == tensors.len()
            && expected
                .iter()
                .zip(&tensors)
                .all(|(s, t)| s.shape == t.shape());
        if !fits {
            let want: Vec<String> = expected.iter().map(|s| format!("{:?}", s.shape)).collect();
            let got: Vec<String> = tensors.iter().map(|t| format!("{:?}", t.shape())).collect();
            return Err(Error::ModelWeights {
                layer: self.graph.layers[index].label(),
                message: format!(
                    "expected weights [{}], got [{}]",
                    want.join(", "),
                    got.join(", ")
                ),
            });
        }
        self.graph.layers[index].weights = tensors;
        Ok(())
    }

    /// Checks, without running anything, that the model has its weights and that `inputs`
    /// are `(batch, ..input_shape)` for each model input, with one batch size; returns it.
    pub fn check_inputs(&self, inputs: &[&[usize]]) -> Result<usize> {
        if let Some(layer) = self.first_without_weights() {
            return Err(Error::ModelWeights {
                layer,
                message: "has no weights (an architecture JSON holds none): load the model's \
                          .keras or .h5 file (model.save(\"m.keras\")), or set them with \
                          Model::set_weights; `wgcnn bench --synthetic-weights` times a model \
                          without its weights"
                    .into(),
            });
        }
        let expected = self.input_shapes();
        if inputs.len() != expected.len() {
            return Err(Error::ShapeMismatch {
                op: "model",
                what: "inputs",
                expected: format!("{} inputs ({})", expected.len(), self.input_names()),
                actual: vec![inputs.len()],
            });
        }
        let mut batch = None;
        let names: Vec<&str> = self.inputs().iter().map(|(n, _)| *n).collect();
        for ((shape, want), name) in inputs.iter().zip(&expected).zip(names) {
            let b = batch_size(name, want, shape)?;
            if *batch.get_or_insert(b) != b {
                return Err(Error::ShapeMismatch {
                    op: "model",
                    what: "inputs",
                    expected: format!("one batch size for all inputs ({})", batch.unwrap_or(0)),
                    actual: shape.to_vec(),
                });
            }
        }
        Ok(batch.unwrap_or(0))
    }

    /// [`Model::check_inputs`] for a single-input model.
    pub fn check_input(&self, input: &[usize]) -> Result<()> {
        self.check_inputs(&[input]).map(drop)
    }

    fn input_names(&self) -> String {
        let names: Vec<&str> = self.inputs().iter().map(|(n, _)| *n).collect();
        names.join(", ")
    }

    /// Runs the forward pass of a single-input, single-output model on `backend`. `input` is
    /// `(batch, ..input_shape)`.
    ///
    /// [`Backend::Gpu`] compiles the model for this one call; to run it repeatedly, keep a
    /// [`GpuModel`] from [`Model::compile_async`] (or its blocking wrapper) instead.
    ///
    /// Without the `native` feature, [`Backend::Gpu`] (which blocks on the shared device) and
    /// [`Backend::Cpu`] are [`Error::FeatureDisabled`]: use [`Model::compile_async`] and
    /// [`GpuModel::run_async`], or [`Backend::Reference`].
    pub fn run(&self, backend: Backend, input: &Tensor) -> Result<Tensor> {
        let mut out = self.run_many(backend, &[input])?;
        if out.len() != 1 {
            return Err(Error::ShapeMismatch {
                op: "model",
                what: "outputs",
                expected: "one output (use run_many for several)".into(),
                actual: vec![out.len()],
            });
        }
        Ok(out.remove(0))
    }

    /// Runs the forward pass on one tensor per model input; returns one per model output.
    pub fn run_many(&self, backend: Backend, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
        match backend {
            Backend::Cpu => self.forward(inputs, true, None),
            Backend::Reference => self.forward(inputs, false, None),
            #[cfg(feature = "native")]
            Backend::Gpu => {
                let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape()).collect();
                let batch = self.check_inputs(&shapes)?;
                self.compile(crate::gpu::Gpu::shared()?, batch)?
                    .run_many(inputs)
            }
            #[cfg(not(feature = "native"))]
            Backend::Gpu => Err(Error::FeatureDisabled {
                feature: "native",
                what: "Backend::Gpu in the blocking Model::run (use Model::compile_async and \
                       GpuModel::run_async)",
            }),
        }
    }

    /// Keras's `model.summary()` for this model.
    pub fn summary(&self) -> Summary {
        Summary::new(self)
    }

    /// The layers a fast backend runs inside another (BatchNormalization and activations after
    /// a convolution or Dense; on the GPU a ZeroPadding2D before a convolution): per top-level
    /// layer, the index of the layer that absorbs it. `gpu` selects the GPU's plan, which
    /// fuses plain activations only.
    pub fn fused_layers(&self, gpu: bool) -> Result<Vec<Option<usize>>> {
        let mut into = vec![None; self.graph.layers.len()];
        for (producer, f) in fuse::plan(self, gpu)? {
            for a in f.absorbed {
                into[self.graph.nodes[a].layer] = Some(self.graph.nodes[producer].layer);
            }
        }
        if gpu {
            for (padding, (_, reader)) in fuse::zero_padding_folds(self) {
                into[self.graph.nodes[padding].layer] = Some(self.graph.nodes[reader].layer);
            }
        }
        Ok(into)
    }

    /// FLOPs of each node for one example (2 per multiply-add), in [`Model::nodes`] order.
    pub fn node_flops(&self) -> Vec<(usize, u64)> {
        self.nodes()
            .map(|(i, node)| {
                let entry = &self.graph.layers[node.layer];
                let inputs = self.graph.input_shapes(i);
                let flops = match &entry.op {
                    LayerOp::Layer(l) => l.flops(&inputs, &node.outputs[0]),
                    LayerOp::Model(m) => m.node_flops().iter().map(|(_, f)| f).sum(),
                    LayerOp::Input(_) | LayerOp::Opaque(_) => 0,
                };
                (i, flops)
            })
            .collect()
    }
}

/// Builds a Sequential model in code, Keras-style: layers get Keras's default names
/// (`conv2d`, `conv2d_1`, ...).
///
/// ```
/// use wgcnn::layers::{Conv2d, MaxPooling2d};
/// use wgcnn::model::Sequential;
/// use wgcnn::{Conv2dSpec, Padding, Pool2dSpec};
///
/// let model = Sequential::new([28, 28, 3])
///     .layer(Conv2d::new(Conv2dSpec::new(32, [5, 5]).use_bias(false)))
///     .layer(MaxPooling2d(Pool2dSpec::new([2, 2]).padding(Padding::Same)))
///     .build()?;
/// assert_eq!(model.output_shape(), &[12, 12, 32]);
/// assert_eq!(model.summary().total_params, 2400);
/// # Ok::<(), wgcnn::Error>(())
/// ```
#[derive(Debug)]
pub struct Sequential {
    name: String,
    input: Vec<usize>,
    layers: Vec<Box<dyn Layer>>,
}

impl Sequential {
    /// A model named `sequential` taking per-example inputs of `input_shape` (no batch).
    pub fn new(input_shape: impl Into<Vec<usize>>) -> Self {
        Self {
            name: "sequential".into(),
            input: input_shape.into(),
            layers: Vec::new(),
        }
    }

    /// Renames the model.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Appends a layer (Keras's `model.add`).
    pub fn layer(mut self, layer: impl Layer + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn boxed(mut self, layer: Box<dyn Layer>) -> Self {
        self.layers.push(layer);
        self
    }

    /// Infers every shape; fails like Keras would on an impossible layer.
    pub fn build(self) -> Result<Model> {
        let mut names = weights::KerasNames::default();
        let input = LayerOp::Input(InputSpec {
            shape: self.input,
            dtype: "float32".into(),
        });
        let ops = std::iter::once(("input_layer".to_string(), "InputLayer", input)).chain(
            self.layers.into_iter().map(|l| {
                let class = l.class_name();
                (names.next(class), class, LayerOp::Layer(l))
            }),
        );
        keras_json::chain(self.name, "Sequential", true, ops.collect())
    }
}

/// `e` with the file it is about in front, unless its message already starts with it.
fn about_file(label: &str, e: Error) -> Error {
    if e.to_string().starts_with(&format!("{label}: ")) {
        e
    } else {
        e.in_layer(label)
    }
}

/// The batch size of an input of shape `input` for the model input `name` of per-example
/// `input_shape`: `input` must be `(batch ≥ 1, ..input_shape)`. The error names the input and,
/// where the shape looks like a common slip, says how to fix it (NCHW data, a missing batch
/// axis).
pub(crate) fn batch_size(name: &str, input_shape: &[usize], input: &[usize]) -> Result<usize> {
    match input.split_first() {
        Some((&batch, rest)) if batch > 0 && rest == input_shape => Ok(batch),
        _ => {
            let hint = if input == input_shape {
                "; this is one example without the batch axis: add it with x[None]".to_string()
            } else if let ([_, c, h, w], [eh, ew, ec]) = (input, input_shape) {
                if (c, h, w) == (ec, eh, ew) {
                    "; this looks like NCHW (channels first) data, and Keras models take NHWC: \
                     x.transpose(0, 2, 3, 1)"
                        .to_string()
                } else {
                    String::new()
                }
            } else {
                String::new()
            };
            Err(Error::InputShape {
                input: name.to_string(),
                expected: format!("(batch ≥ 1, {}){hint}", join(input_shape)),
                actual: input.to_vec(),
            })
        }
    }
}

fn join(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
