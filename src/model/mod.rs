//! Keras models: load a `.keras` file (or bare architecture JSON), print Keras's summary, run
//! the forward pass.
//!
//! A model is a chain of [`Layer`]s starting at an input layer; every layer's output shape is
//! inferred when the model is built, with the same formulas as the single ops.

mod config;
mod forward;
mod layer;
mod summary;
mod weights;

use std::path::Path;

pub use layer::{Layer, LayerActivation, ReluSpec};
pub use summary::{Summary, SummaryRow};

use crate::error::{Error, Result};
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

/// Where [`Model::run`] computes.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'g> {
    /// The fast CPU backend (multi-threaded SIMD GEMMs).
    Cpu,
    /// The CPU reference (plain loops, f64 accumulation): slow, obviously correct.
    Reference,
    /// WGSL compute shaders on this device.
    Gpu(&'g crate::Gpu),
}

/// A layer in a model: its name, what it computes, and whether its weights are trainable.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelLayer {
    /// The layer's name (`conv2d_1`).
    pub name: String,
    /// What it computes.
    pub layer: Layer,
    /// The Keras class it was declared as (`Softmax` and `Activation('softmax')` compute the
    /// same [`Layer`] but print differently).
    pub class_name: String,
    /// Keras's `trainable` flag: if false, its weights count as non-trainable.
    pub trainable: bool,
    /// The input shape the config declares, if any (used when a Sequential has no InputLayer).
    pub(crate) declared_input: Option<Vec<usize>>,
}

impl ModelLayer {
    fn input(shape: Vec<usize>) -> Self {
        Self {
            name: "input_layer".into(),
            layer: Layer::Input(shape),
            class_name: "InputLayer".into(),
            trainable: true,
            declared_input: None,
        }
    }
}

/// A Keras model whose layers form a chain. Build one with [`Model::load`],
/// [`Model::from_json`] or [`Sequential`].
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    name: String,
    sequential: bool,
    layers: Vec<ModelLayer>,
    /// Output shape of each layer (without batch); `shapes[0]` is the input shape.
    shapes: Vec<Vec<usize>>,
    /// Weights per layer, in Keras's order; empty for layers without weights or when none were
    /// loaded.
    weights: Vec<Vec<Tensor>>,
}

impl Model {
    fn new(name: String, sequential: bool, layers: Vec<ModelLayer>) -> Result<Self> {
        let Some(Layer::Input(input)) = layers.first().map(|l| &l.layer) else {
            return Err(Error::ModelConfig {
                layer: name,
                message: "a model must start with an input layer".into(),
            });
        };
        let mut shapes = vec![input.clone()];
        for l in &layers[1..] {
            if matches!(l.layer, Layer::Input(_)) {
                return Err(Error::ModelConfig {
                    layer: l.name.clone(),
                    message: "an input layer inside the chain is not supported".into(),
                });
            }
            let previous = shapes.last().map(Vec::as_slice).unwrap_or_default();
            let out = l
                .layer
                .output_shape(previous)
                .map_err(|e| Error::ModelConfig {
                    layer: format!("{} ({})", l.name, l.class_name),
                    message: format!("on input (None, {}): {e}", join(previous)),
                })?;
            shapes.push(out);
        }
        let weights = vec![Vec::new(); layers.len()];
        Ok(Self {
            name,
            sequential,
            layers,
            shapes,
            weights,
        })
    }

    /// Reads a model: a `.keras` file (architecture and weights) or a JSON architecture
    /// (`model.to_json()` or an unzipped `config.json`; no weights, enough for a summary).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.starts_with(b"PK") {
            weights::load_keras_archive(&path.display().to_string(), &bytes)
        } else {
            let text = String::from_utf8(bytes).map_err(|_| Error::ModelConfig {
                layer: path.display().to_string(),
                message: "neither a .keras (zip) file nor UTF-8 JSON".into(),
            })?;
            Self::from_json(&text)
        }
    }

    /// Reads a model from the bytes of a `.keras` file (one embedded in a program, say);
    /// `label` names it in errors.
    pub fn from_keras_bytes(label: &str, bytes: &[u8]) -> Result<Self> {
        weights::load_keras_archive(label, bytes)
    }

    /// Builds a model (without weights) from Keras's architecture JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        config::model_from_json(text)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layers, starting with the input layer.
    pub fn layers(&self) -> &[ModelLayer] {
        &self.layers
    }

    /// The per-example input shape (without batch).
    pub fn input_shape(&self) -> &[usize] {
        &self.shapes[0]
    }

    /// The per-example output shape (without batch).
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().map(Vec::as_slice).unwrap_or_default()
    }

    /// Each layer's output shape (without batch), aligned with [`Model::layers`].
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// The weights of layer `index`, in Keras's order (kernel, bias; gamma, beta, moving mean,
    /// moving variance).
    pub fn weights(&self, index: usize) -> &[Tensor] {
        self.weights
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether every layer that needs weights has them.
    pub fn has_weights(&self) -> bool {
        self.first_without_weights().is_none()
    }

    /// The first layer that needs weights and has none.
    fn first_without_weights(&self) -> Option<usize> {
        (0..self.layers.len()).find(|&i| {
            !self.layers[i]
                .layer
                .weight_shapes(self.input_of(i))
                .is_empty()
                && self.weights[i].is_empty()
        })
    }

    /// The input shape of layer `index`.
    fn input_of(&self, index: usize) -> &[usize] {
        &self.shapes[index.saturating_sub(1)]
    }

    /// Sets the weights of the layer named `name`, checking them against the shapes Keras
    /// would store.
    pub fn set_weights(&mut self, name: &str, tensors: Vec<Tensor>) -> Result<()> {
        let index = self
            .layers
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| Error::ModelWeights {
                layer: name.to_string(),
                message: "no layer of this name".into(),
            })?;
        let expected = self.layers[index].layer.weight_shapes(self.input_of(index));
        let describe = |shapes: Vec<String>| shapes.join(", ");
        let want: Vec<String> = expected.iter().map(|(s, _)| format!("{s:?}")).collect();
        let got: Vec<String> = tensors.iter().map(|t| format!("{:?}", t.shape())).collect();
        if expected.len() != tensors.len()
            || expected
                .iter()
                .zip(&tensors)
                .any(|((s, _), t)| s != t.shape())
        {
            return Err(Error::ModelWeights {
                layer: format!("{} ({})", name, self.layers[index].class_name),
                message: format!(
                    "expected weights [{}], got [{}]",
                    describe(want),
                    describe(got)
                ),
            });
        }
        self.weights[index] = tensors;
        Ok(())
    }

    /// Checks, without running anything, that the model has its weights and that an input of
    /// shape `input` is `(batch, ..input_shape)`.
    pub fn check_input(&self, input: &[usize]) -> Result<()> {
        if let Some(i) = self.first_without_weights() {
            return Err(self.missing_weights(i));
        }
        batch_size(self.input_shape(), input).map(drop)
    }

    fn missing_weights(&self, index: usize) -> Error {
        let l = &self.layers[index];
        Error::ModelWeights {
            layer: format!("{} ({})", l.name, l.class_name),
            message: "has no weights: load a .keras file, or set them with Model::set_weights"
                .into(),
        }
    }

    /// Runs the forward pass on `backend`. `input` is `(batch, ..input_shape)`.
    ///
    /// On the GPU this uploads the weights for this one call; to run a model repeatedly, keep a
    /// [`crate::gpu::GpuModel`] from [`Gpu::compile`](crate::Gpu::compile) instead.
    pub fn run(&self, backend: Backend<'_>, input: &Tensor) -> Result<Tensor> {
        match backend {
            Backend::Cpu => self.run_cpu(input),
            Backend::Reference => self.run_reference(input),
            Backend::Gpu(gpu) => {
                self.check_input(input.shape())?;
                gpu.compile(self, input.shape()[0])?.run(input)
            }
        }
    }

    /// Keras's `model.summary()` for this model.
    pub fn summary(&self) -> Summary {
        Summary::new(self)
    }
}

/// Builds a Sequential model in code, Keras-style: layers get Keras's default names
/// (`conv2d`, `conv2d_1`, ...).
///
/// ```
/// use wgcnn::model::{Layer, Sequential};
/// use wgcnn::{Conv2dSpec, Padding, Pool2dSpec};
///
/// let model = Sequential::new([28, 28, 3])
///     .conv2d(Conv2dSpec::new(32, [5, 5]).use_bias(false))
///     .layer(Layer::MaxPool2d(Pool2dSpec::new([2, 2]).padding(Padding::Same)))
///     .build()?;
/// assert_eq!(model.output_shape(), &[12, 12, 32]);
/// assert_eq!(model.summary().total_params, 2400);
/// # Ok::<(), wgcnn::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sequential {
    name: String,
    input: Vec<usize>,
    layers: Vec<Layer>,
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
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    /// Appends a `Conv2D` (its spec's activation is fused).
    pub fn conv2d(self, spec: Conv2dSpec) -> Self {
        self.layer(Layer::Conv2d {
            spec,
            softmax: false,
        })
    }

    /// Infers every shape; fails like Keras would on an impossible layer.
    pub fn build(self) -> Result<Model> {
        let mut names = weights::KerasNames::default();
        let mut layers = vec![ModelLayer::input(self.input)];
        for layer in self.layers {
            let name = names.next(layer.class_name());
            layers.push(ModelLayer {
                name,
                class_name: layer.class_name().to_string(),
                layer,
                trainable: true,
                declared_input: None,
            });
        }
        Model::new(self.name, true, layers)
    }
}

/// The batch size of an input of shape `input` for a model taking per-example
/// `input_shape`: `input` must be `(batch ≥ 1, ..input_shape)`.
pub(crate) fn batch_size(input_shape: &[usize], input: &[usize]) -> Result<usize> {
    match input.split_first() {
        Some((&batch, rest)) if batch > 0 && rest == input_shape => Ok(batch),
        _ => Err(Error::ShapeMismatch {
            op: "model",
            what: "input",
            expected: format!("(batch ≥ 1, {})", join(input_shape)),
            actual: input.to_vec(),
        }),
    }
}

fn join(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
