//! A model's graph, as Keras builds it: layers (each holding its weights), and nodes — one per
//! call of a layer — reading tensors produced by other nodes. A layer called twice shares its
//! weights between its two nodes; a nested model is a layer whose computation is a graph of its
//! own. The graph knows nothing about any particular layer: it infers shapes by asking each
//! [`Layer`], and the backends walk [`Graph::order`].

use super::Model;
use crate::error::{Error, Result};
use crate::layers::{Layer, WeightSpec};
use crate::tensor::Tensor;

/// A model input's declared shape and dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// Per-example shape (no batch).
    pub shape: Vec<usize>,
    /// Keras dtype (`float32`, `int32`, ...). Integer inputs carry token ids; wgcnn holds
    /// them as f32, exactly while they are below 2^24.
    pub dtype: String,
}

impl InputSpec {
    /// Whether the model expects integer values here.
    pub fn is_integer(&self) -> bool {
        self.dtype.starts_with("int") || self.dtype.starts_with("uint")
    }
}

/// What a layer is.
#[derive(Debug)]
pub(crate) enum LayerOp {
    /// `InputLayer`.
    Input(InputSpec),
    /// A Keras layer (or a `keras.ops` operation).
    Layer(Box<dyn Layer>),
    /// A nested Sequential or Functional model used as a layer.
    Model(Box<Model>),
    /// A layer class wgcnn does not know (a custom layer, or a built-in one it has no rules
    /// for): described from what the file records, never run.
    Opaque(Opaque),
}

/// What the file says of a layer wgcnn does not know: Keras records the shape of every tensor a
/// call reads (a Functional's `inbound_nodes`, the next layer's `build_config` in a
/// Sequential), and the weights file holds its weights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Opaque {
    /// Per call (keyed by its node), per output tensor: its per-example shape as the layers
    /// reading it record it; `None` where nothing reads it (a model output), so nothing says.
    pub outputs: std::collections::BTreeMap<usize, Vec<Option<Vec<usize>>>>,
    /// The shapes of its stored weights (sub-layers' included); `None` when no weights file
    /// was read (an architecture JSON).
    pub stored: Option<Vec<Vec<usize>>>,
}

impl Opaque {
    /// Its parameter count, if a weights file said (saturating).
    pub fn params(&self) -> Option<usize> {
        self.stored.as_ref().map(|shapes| {
            shapes.iter().fold(0usize, |t, s| {
                t.saturating_add(s.iter().fold(1usize, |p, &d| p.saturating_mul(d)))
            })
        })
    }
}

/// One layer of a model: its name, class, weights and the nodes that call it.
#[derive(Debug)]
pub struct LayerEntry {
    /// The layer's name (`conv2d_1`).
    pub name: String,
    /// The Keras class name as the config declares it (`Softmax` and `Activation('softmax')`
    /// compute the same but print differently).
    pub class_name: String,
    /// Keras's `trainable` flag: if false, its weights count as non-trainable.
    pub trainable: bool,
    /// A `keras.ops` operation (`x + 3.0`): not a Keras layer, so it has no weights path.
    pub(crate) is_op: bool,
    /// Listed in `model.layers` (a Sequential model's InputLayer is not).
    pub(crate) listed: bool,
    pub(crate) op: LayerOp,
    pub(crate) weights: Vec<Tensor>,
    /// The nodes calling this layer, in Keras's node-index order.
    pub(crate) nodes: Vec<usize>,
}

impl LayerEntry {
    /// `name (Class)`, as errors and the summary name layers.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.class_name)
    }

    /// The layer's weights as loaded (Keras's order); empty before loading.
    pub fn weights(&self) -> &[Tensor] {
        &self.weights
    }

    /// The nested model, if this layer is one.
    pub fn submodel(&self) -> Option<&Model> {
        match &self.op {
            LayerOp::Model(m) => Some(m),
            _ => None,
        }
    }

    /// The error for running this layer, which wgcnn cannot compute.
    pub(crate) fn cannot_run(&self) -> Error {
        Error::CannotRun {
            what: self.label(),
            layers: vec![self.label()],
        }
    }

    /// Whether wgcnn knows this layer's class (false: described from the file, never run).
    pub fn is_known(&self) -> bool {
        !matches!(self.op, LayerOp::Opaque(_))
    }

    /// The layer's implementation (`None` for input layers, nested models and classes wgcnn
    /// does not know).
    pub fn layer(&self) -> Option<&dyn Layer> {
        match &self.op {
            LayerOp::Layer(l) => Some(l.as_ref()),
            _ => None,
        }
    }
}

/// A tensor in the graph: output `index` of node `node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorRef {
    /// The producing node.
    pub node: usize,
    /// Which of its outputs.
    pub index: usize,
}

/// One call of a layer.
#[derive(Debug, Clone)]
pub struct Node {
    /// The layer called.
    pub layer: usize,
    /// The tensors it reads.
    pub inputs: Vec<TensorRef>,
    /// The per-example shapes of its outputs.
    pub outputs: Vec<Vec<usize>>,
}

/// The layers and nodes of one model, with its inputs and outputs.
#[derive(Debug)]
pub(crate) struct Graph {
    pub layers: Vec<LayerEntry>,
    pub nodes: Vec<Node>,
    /// Nodes in an order where every node comes after the nodes it reads.
    pub order: Vec<usize>,
    pub inputs: Vec<TensorRef>,
    pub outputs: Vec<TensorRef>,
}

impl Graph {
    /// Orders the nodes (producers first, otherwise in the order given, which is Keras's) and
    /// infers every shape. Fails on a reference to a missing node, a cycle, or a layer that
    /// refuses its input shapes (the error names the layer).
    pub fn finish(mut self) -> Result<Self> {
        let n = self.nodes.len();
        for node in &self.nodes {
            for r in &node.inputs {
                if r.node >= n {
                    return Err(graph_error("a node reads a tensor that does not exist"));
                }
            }
        }
        // Kahn's algorithm, always taking the earliest ready node: Keras's own order whenever
        // it is already topological.
        let mut pending: Vec<usize> = self.nodes.iter().map(|nd| nd.inputs.len()).collect();
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, node) in self.nodes.iter().enumerate() {
            for r in &node.inputs {
                consumers[r.node].push(i);
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| pending[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &c in &consumers[i] {
                pending[c] -= 1;
                if pending[c] == 0 {
                    ready.insert(c);
                }
            }
        }
        if order.len() != n {
            let mut placed = vec![false; n];
            for &i in &order {
                placed[i] = true;
            }
            let stuck: Vec<String> = (0..n)
                .filter(|&i| !placed[i])
                .map(|i| self.layers[self.nodes[i].layer].name.clone())
                .collect();
            return Err(graph_error(format!(
                "the layer graph has a cycle through {}",
                stuck.join(", ")
            )));
        }
        self.order = order;
        // Per layer, the first of its calls inferred: a shared layer's other calls are held
        // against it.
        let mut first_call: Vec<Option<usize>> = vec![None; self.layers.len()];
        for &i in &self.order.clone() {
            let outputs = self.infer(i, first_call[self.nodes[i].layer])?;
            first_call[self.nodes[i].layer].get_or_insert(i);
            self.nodes[i].outputs = outputs;
        }
        for r in self.inputs.iter().chain(&self.outputs) {
            if r.node >= n || r.index >= self.nodes[r.node].outputs.len() {
                return Err(graph_error(
                    "a model input or output names a missing tensor",
                ));
            }
        }
        Ok(self)
    }

    /// The shape of a tensor (after [`Graph::finish`]).
    pub fn shape(&self, r: TensorRef) -> &[usize] {
        &self.nodes[r.node].outputs[r.index]
    }

    /// Infers the output shapes of node `i` from its inputs' shapes; `earlier` is another call
    /// of the same layer, already inferred, whose weights this call must fit.
    fn infer(&mut self, i: usize, earlier: Option<usize>) -> Result<Vec<Vec<usize>>> {
        let node = &self.nodes[i];
        let inputs: Vec<Vec<usize>> = node
            .inputs
            .iter()
            .map(|r| self.nodes[r.node].outputs.get(r.index).cloned())
            .collect::<Option<_>>()
            .ok_or_else(|| graph_error("a node reads a tensor its producer does not make"))?;
        let entry = &self.layers[node.layer];
        let label = entry.label();
        let refs: Vec<&[usize]> = inputs.iter().map(Vec::as_slice).collect();
        let outputs = match &entry.op {
            LayerOp::Input(spec) => vec![spec.shape.clone()],
            LayerOp::Opaque(opaque) => {
                // The shapes recorded for this call's outputs; an unread one is empty.
                let recorded = opaque.outputs.get(&i).cloned().unwrap_or_default();
                let mut outputs: Vec<Vec<usize>> = recorded
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect();
                if outputs.is_empty() {
                    outputs.push(Vec::new());
                }
                outputs
            }
            LayerOp::Layer(layer) => {
                let (min, max) = layer.arity();
                if refs.len() < min || refs.len() > max {
                    return Err(Error::ModelConfig {
                        layer: label,
                        message: format!(
                            "takes {} inputs, called with {}",
                            if min == max {
                                min.to_string()
                            } else {
                                format!("{min} to {max}")
                            },
                            refs.len()
                        ),
                    });
                }
                let out = layer.output_shape(&refs).map_err(|e| {
                    let shapes: Vec<String> = refs.iter().map(|s| shape_text(s)).collect();
                    Error::ModelConfig {
                        layer: label.clone(),
                        message: format!("on input {}: {e}", shapes.join(", ")),
                    }
                })?;
                check_output(&label, &out)?;
                let specs = layer
                    .weights(&refs)
                    .map_err(|e| e.in_layer(label.clone()))?;
                // A shared layer has one set of weights: every call must fit it (Keras
                // refuses the call that does not).
                if let Some(other) = earlier {
                    let theirs: Vec<&[usize]> = self.input_shapes(other);
                    if layer.weights(&theirs).ok().as_ref() != Some(&specs) {
                        let text = |s: &[&[usize]]| {
                            s.iter()
                                .map(|s| shape_text(s))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        return Err(Error::ModelConfig {
                            layer: label,
                            message: format!(
                                "called on {} and on {}: its weights cannot fit both",
                                text(&theirs),
                                text(&refs)
                            ),
                        });
                    }
                }
                vec![out]
            }
            LayerOp::Model(model) => {
                let expected = model.input_shapes();
                if expected.len() != refs.len()
                    || expected.iter().zip(&refs).any(|(a, b)| a.as_slice() != *b)
                {
                    let shapes: Vec<String> = refs.iter().map(|s| shape_text(s)).collect();
                    let want: Vec<String> = expected.iter().map(|s| shape_text(s)).collect();
                    return Err(Error::ModelConfig {
                        layer: label,
                        message: format!(
                            "called on {} but built for {}",
                            shapes.join(", "),
                            want.join(", ")
                        ),
                    });
                }
                model.output_shapes()
            }
        };
        Ok(outputs)
    }

    /// The weights layer `l` needs, from the shapes of its first node's inputs.
    pub fn weight_specs(&self, l: usize) -> Result<Vec<WeightSpec>> {
        let entry = &self.layers[l];
        let LayerOp::Layer(layer) = &entry.op else {
            return Ok(Vec::new());
        };
        let Some(&node) = entry.nodes.first() else {
            return Ok(Vec::new());
        };
        let inputs: Vec<&[usize]> = self.nodes[node]
            .inputs
            .iter()
            .map(|r| self.shape(*r))
            .collect();
        layer
            .weights(&inputs)
            .map_err(|e| e.in_layer(entry.label()))
    }

    /// The input shapes of node `i`.
    pub fn input_shapes(&self, i: usize) -> Vec<&[usize]> {
        self.nodes[i]
            .inputs
            .iter()
            .map(|r| self.shape(*r))
            .collect()
    }
}

fn check_output(label: &str, out: &[usize]) -> Result<()> {
    if out.contains(&0) {
        return Err(Error::ModelConfig {
            layer: label.to_string(),
            message: format!("would produce an empty output {}", shape_text(out)),
        });
    }
    crate::tensor::element_count(out).ok_or_else(|| Error::ModelConfig {
        layer: label.to_string(),
        message: format!("output {} overflows", shape_text(out)),
    })?;
    Ok(())
}

fn graph_error(message: impl Into<String>) -> Error {
    Error::ModelConfig {
        layer: "graph".into(),
        message: message.into(),
    }
}

/// `(None, 32, 32, 3)`.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once("None".to_string())
        .chain(shape.iter().map(usize::to_string))
        .collect();
    format!("({})", dims.join(", "))
}
