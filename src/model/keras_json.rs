//! Keras architecture JSON (`config.json` in a `.keras` file, `model.to_json()`, the
//! `model_config` of a legacy `.h5` file) into a [`Model`]. Keras 3 and Keras 2 node formats
//! are both read. Everything that changes what a layer computes is read and checked (by the
//! layer's own `from_config`); an unknown layer, option or connection is an error naming the
//! layer, never silently ignored.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::graph::{Graph, InputSpec, LayerEntry, LayerOp, Node, Opaque, TensorRef};
use super::Model;
use crate::error::{Error, Result};
use crate::layers::{self, Config};

fn config_error(layer: &str, message: impl Into<String>) -> Error {
    Error::ModelConfig {
        layer: layer.to_string(),
        message: message.into(),
    }
}

/// Builds a model from Keras's architecture JSON.
pub(super) fn model_from_json(text: &str) -> Result<Model> {
    let root: Value = serde_json::from_str(&quote_non_finite(text))
        .map_err(|e| config_error("architecture", format!("not valid JSON: {e}")))?;
    model_from_value(&root, None)
}

/// Python's `json` writes a non-finite float (`Normalization(mean=nan)`, `Rescaling(scale=inf)`)
/// as a bare `NaN`, `Infinity` or `-Infinity`, which JSON has no token for: each becomes the
/// string `"NaN"`, `"Infinity"` or `"-Infinity"`, which the config readers take as that number
/// (`crate::layers::number`). Text inside strings is left alone.
fn quote_non_finite(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some(token) = ["NaN", "Infinity", "-Infinity"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            out.push('"');
            out.push_str(token);
            out.push('"');
            rest = &rest[token.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

/// A per-example shape from a Keras shape list with a leading batch dimension
/// (`batch_shape`, `build_input_shape`); `None` if it is not one, an error if a dimension is
/// unknown (wgcnn plans every buffer ahead, so it needs fixed sizes).
fn batch_shape(layer: &str, v: &Value) -> Result<Option<Vec<usize>>> {
    let Some(dims) = v.as_array() else {
        return Ok(None);
    };
    if dims.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for d in &dims[1..] {
        match layers::as_usize(d) {
            Some(n) => out.push(n),
            None if d.is_null() => {
                let text: Vec<String> = dims
                    .iter()
                    .map(|d| d.as_u64().map_or("None".into(), |n| n.to_string()))
                    .collect();
                return Err(config_error(
                    layer,
                    format!(
                        "input shape ({}) has dimensions of unknown size: wgcnn needs every \
                         size but the batch fixed (build the model with a concrete input_shape)",
                        text.join(", ")
                    ),
                ));
            }
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// The input shape a layer config declares: `batch_shape` (Keras 3), `batch_input_shape`
/// (Keras 2) or `input_shape` (Keras 2, no batch).
fn declared_input(layer: &str, config: &Map<String, Value>) -> Result<Option<Vec<usize>>> {
    for key in ["batch_shape", "batch_input_shape"] {
        if let Some(v) = config.get(key) {
            if let Some(s) = batch_shape(layer, v)? {
                return Ok(Some(s));
            }
        }
    }
    if let Some(Value::Array(dims)) = config.get("input_shape") {
        let with_batch: Vec<Value> = std::iter::once(Value::Null)
            .chain(dims.iter().cloned())
            .collect();
        return batch_shape(layer, &Value::Array(with_batch));
    }
    Ok(None)
}

fn entry_parts(entry: &Value) -> Result<(&str, &Map<String, Value>, String)> {
    let class = entry
        .get("class_name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let config = entry
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| config_error(class, "layer has no config object"))?;
    let name = config
        .get("name")
        .or_else(|| entry.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(class)
        .to_string();
    Ok((class, config, name))
}

fn is_model_class(class: &str) -> bool {
    matches!(class, "Sequential" | "Functional" | "Model")
}

/// A model (top-level or nested) from its `{"class_name": .., "config": {..}}`; `hint` is the
/// input shape it is called on, for a nested Sequential that declares none.
pub(super) fn model_from_value(root: &Value, hint: Option<Vec<usize>>) -> Result<Model> {
    let class = root
        .get("class_name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let config = root
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            config_error("architecture", "no 'config' object: not a Keras model JSON")
        })?;
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("model")
        .to_string();
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| config_error(&name, "the model config has no 'layers' list"))?;
    let trainable = config
        .get("trainable")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    match class {
        "Sequential" => sequential(name, config, entries, trainable, hint),
        "Functional" | "Model" => functional(name, config, entries, trainable),
        other => Err(config_error(
            &name,
            format!("model class '{other}' is not supported (Sequential, Functional)"),
        )),
    }
}

/// One parsed layer entry: everything but its connections.
struct Parsed {
    name: String,
    class: String,
    trainable: bool,
    is_op: bool,
    op: LayerOp,
}

/// Parses one layer entry; `shape` is the input shape it is called on, when known (needed by
/// nested models that declare none).
fn parse_entry(entry: &Value, shape: Option<Vec<usize>>, args: &[Value]) -> Result<Parsed> {
    let (class, config, name) = entry_parts(entry)?;
    let label = format!("{name} ({class})");
    let trainable = config
        .get("trainable")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let module = entry.get("module").and_then(Value::as_str);
    let is_op = module.is_some_and(|m| m.starts_with("keras.src.ops"));
    let op = if class == "InputLayer" {
        let shape = declared_input(&label, config)?
            .ok_or_else(|| config_error(&label, "no input shape"))?;
        let dtype = match config.get("dtype") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o
                .get("config")
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("float32")
                .to_string(),
            _ => "float32".into(),
        };
        LayerOp::Input(InputSpec { shape, dtype })
    } else if is_model_class(class) {
        let hint = shape.or(entry
            .get("build_config")
            .and_then(|b| b.get("input_shape"))
            .map(|v| batch_shape(&label, v))
            .transpose()?
            .flatten());
        let mut nested = model_from_value(entry, hint).map_err(|e| e.in_layer(label.clone()))?;
        nested.name = name.clone();
        LayerOp::Model(Box::new(nested))
    } else {
        match layers::constructor(class, module) {
            Some(constructor) => {
                let reader = Config { config, args };
                LayerOp::Layer(constructor(&reader).map_err(|e| e.in_layer(label.clone()))?)
            }
            // A class wgcnn does not know: described from what the file records. A `keras.ops`
            // operation holds no weights.
            None => LayerOp::Opaque(Opaque {
                stored: is_op.then(Vec::new),
                ..Opaque::default()
            }),
        }
    };
    Ok(Parsed {
        name,
        class: class.to_string(),
        trainable,
        is_op,
        op,
    })
}

/// A Sequential model: its layers as a chain, an InputLayer first (the config's, or one made
/// from the declared input shape).
fn sequential(
    name: String,
    config: &Map<String, Value>,
    entries: &[Value],
    trainable: bool,
    hint: Option<Vec<usize>>,
) -> Result<Model> {
    let mut ops: Vec<(String, String, LayerOp, bool)> = Vec::new();
    let mut shape: Option<Vec<usize>> = None;
    let mut input_declared = true;
    for (i, entry) in entries.iter().enumerate() {
        let (class, layer_config, layer_name) = entry_parts(entry)?;
        if i == 0 && class != "InputLayer" {
            // No InputLayer: Keras takes the shape from the build config or the first layer.
            let declared = match config.get("build_input_shape") {
                Some(v) => batch_shape(&name, v)?,
                None => None,
            };
            let declared = match declared {
                Some(s) => Some(s),
                None => declared_input(&layer_name, layer_config)?,
            };
            input_declared = declared.is_some();
            let input = declared
                .or_else(|| hint.clone())
                .ok_or_else(|| config_error(&name, "the model declares no input shape"))?;
            shape = Some(input.clone());
            ops.push((
                "input_layer".into(),
                "InputLayer".into(),
                LayerOp::Input(InputSpec {
                    shape: input,
                    dtype: "float32".into(),
                }),
                true,
            ));
        }
        let mut parsed = parse_entry(entry, shape.clone(), &[])?;
        if i > 0 && matches!(parsed.op, LayerOp::Input(_)) {
            return Err(config_error(
                &parsed.name,
                "an InputLayer inside a Sequential model",
            ));
        }
        if let LayerOp::Opaque(o) = &mut parsed.op {
            // A class wgcnn does not know: its output is what the next layer records reading.
            let recorded = match entries.get(i + 1) {
                Some(next) => Some(
                    next.get("build_config")
                        .and_then(|b| b.get("input_shape"))
                        .and_then(|v| batch_shape(&parsed.name, v).ok().flatten())
                        .ok_or_else(|| {
                            config_error(
                                &format!("{} ({})", parsed.name, parsed.class),
                                "wgcnn does not know this layer class, and the next layer \
                                 records no input shape (a Keras 2 file: save the model with \
                                 Keras 3)",
                            )
                        })?,
                ),
                None => None,
            };
            // This layer's one call is the chain's next node.
            o.outputs = std::collections::BTreeMap::from([(ops.len(), vec![recorded])]);
        }
        // Track the running shape, for nested models that declare none.
        shape = match &parsed.op {
            LayerOp::Opaque(o) => o
                .outputs
                .values()
                .next()
                .and_then(|call| call.first().cloned().flatten()),
            LayerOp::Input(spec) => Some(spec.shape.clone()),
            LayerOp::Layer(layer) => match &shape {
                Some(s) => layer.output_shape(&[s]).ok(),
                None => None,
            },
            LayerOp::Model(m) => m.output_shapes().into_iter().next(),
        };
        ops.push((parsed.name, parsed.class, parsed.op, parsed.trainable));
    }
    let mut model = chain_with_flags(name, "Sequential", trainable, ops)?;
    model.declared_input = input_declared;
    Ok(model)
}

/// A chain of layers (the first an input) as a model of class `class`.
pub(super) fn chain(
    name: String,
    class: &str,
    trainable: bool,
    ops: Vec<(String, &str, LayerOp)>,
) -> Result<Model> {
    let ops = ops
        .into_iter()
        .map(|(n, c, op)| (n, c.to_string(), op, true))
        .collect();
    chain_with_flags(name, class, trainable, ops)
}

fn chain_with_flags(
    name: String,
    class: &str,
    trainable: bool,
    ops: Vec<(String, String, LayerOp, bool)>,
) -> Result<Model> {
    if !matches!(ops.first(), Some((_, _, LayerOp::Input(_), _))) {
        return Err(config_error(
            &name,
            "a model must start with an input layer",
        ));
    }
    let mut graph = Graph {
        layers: Vec::new(),
        nodes: Vec::new(),
        order: Vec::new(),
        inputs: vec![TensorRef { node: 0, index: 0 }],
        outputs: Vec::new(),
    };
    for (i, (layer_name, class_name, op, layer_trainable)) in ops.into_iter().enumerate() {
        let inputs = if i == 0 {
            Vec::new()
        } else {
            vec![TensorRef {
                node: i - 1,
                index: 0,
            }]
        };
        graph.nodes.push(Node {
            layer: i,
            inputs,
            outputs: Vec::new(),
        });
        graph.layers.push(LayerEntry {
            name: layer_name,
            class_name,
            trainable: layer_trainable,
            is_op: false,
            // Keras's `Sequential.layers` leaves out the input layer.
            listed: i > 0,
            op,
            weights: Vec::new(),
            nodes: vec![i],
        });
    }
    graph.outputs = vec![TensorRef {
        node: graph.nodes.len() - 1,
        index: 0,
    }];
    Model::new(name, class.to_string(), trainable, graph)
}

/// A reference to a tensor as Keras writes it: `(layer name, node index, tensor index)`.
type Ref = (String, usize, usize);

/// The tensors a call reads: where each comes from and, in Keras 3 files, its per-example
/// shape as recorded (`None` where the file records none or one with unknown sizes).
#[derive(Default)]
struct Reads {
    refs: Vec<Ref>,
    shapes: Vec<Option<Vec<usize>>>,
}

impl Reads {
    fn len(&self) -> usize {
        self.refs.len()
    }

    fn push(&mut self, r: Ref, shape: Option<Vec<usize>>) {
        self.refs.push(r);
        self.shapes.push(shape);
    }
}

/// The tensors a Keras 3 call reads (in argument order) and its positional arguments with
/// tensors replaced by `null`.
fn call_args(node: &Value) -> (Reads, Vec<Value>) {
    fn tensors(v: &Value, out: &mut Reads) {
        match v {
            Value::Object(map) => {
                let config = map.get("config");
                if let Some(Value::Array(h)) = config
                    .and_then(|c| c.get("keras_history"))
                    .or_else(|| map.get("keras_history"))
                {
                    if let Some(name) = h.first().and_then(Value::as_str) {
                        let at = |i: usize| {
                            h.get(i)
                                .and_then(Value::as_u64)
                                .and_then(|n| usize::try_from(n).ok())
                                .unwrap_or(0)
                        };
                        let shape = config
                            .and_then(|c| c.get("shape"))
                            .and_then(|s| batch_shape(name, s).ok().flatten());
                        out.push((name.to_string(), at(1), at(2)), shape);
                        return;
                    }
                }
                map.values().for_each(|v| tensors(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| tensors(v, out)),
            _ => {}
        }
    }
    let mut refs = Reads::default();
    let mut args = Vec::new();
    match node {
        // Keras 3: {"args": [...], "kwargs": {...}}
        Value::Object(map) => {
            for a in map
                .get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let before = refs.len();
                tensors(a, &mut refs);
                args.push(if refs.len() > before {
                    Value::Null
                } else {
                    a.clone()
                });
            }
            if let Some(kwargs) = map.get("kwargs") {
                tensors(kwargs, &mut refs);
            }
        }
        // Keras 2: [[name, node_index, tensor_index, kwargs], ...]
        Value::Array(items) => {
            for item in items {
                if let Some(Value::String(name)) = item.get(0) {
                    let at = |i: usize| {
                        item.get(i)
                            .and_then(Value::as_u64)
                            .and_then(|n| usize::try_from(n).ok())
                            .unwrap_or(0)
                    };
                    refs.push((name.clone(), at(1), at(2)), None);
                    args.push(Value::Null);
                }
            }
        }
        _ => {}
    }
    (refs, args)
}

/// Where a tensor reference stands: in a call's arguments, or among the model's inputs and
/// outputs (Keras 3 numbers a nested Functional's calls differently in the two).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Site {
    Call,
    Endpoint,
}

/// Endpoints listed in `input_layers` / `output_layers`: `["name", 0, 0]` or a list of those.
fn endpoints(v: Option<&Value>) -> Vec<Ref> {
    match v {
        Some(Value::Array(items)) if items.first().is_some_and(Value::is_string) => {
            let at = |i: usize| {
                items
                    .get(i)
                    .and_then(Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(0)
            };
            vec![(
                items[0].as_str().unwrap_or_default().to_string(),
                at(1),
                at(2),
            )]
        }
        Some(Value::Array(items)) => items.iter().flat_map(|i| endpoints(Some(i))).collect(),
        Some(Value::Object(map)) => map.values().flat_map(|i| endpoints(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// The most outputs a layer of unknown class may have read from it (a bound against hostile
/// tensor indices; Keras layers have a handful).
const MAX_UNKNOWN_OUTPUTS: usize = 4096;

/// Gives each layer of unknown class the shapes of its outputs: those its readers record
/// (`recorded[call][argument]` for `nodes[call].inputs[argument]`). An output that is read
/// with no recorded shape (a Keras 2 file) is an error; one nobody reads (a model output)
/// stays unknown.
fn record_opaque_outputs(
    layers: &mut [Parsed],
    recorded: &[&[Option<Vec<usize>>]],
    nodes: &[Node],
    outputs: &[TensorRef],
) -> Result<()> {
    let reads = nodes.iter().zip(recorded).flat_map(|(node, shapes)| {
        node.inputs
            .iter()
            .enumerate()
            .map(move |(a, r)| (*r, shapes.get(a).cloned().flatten(), true))
    });
    let ends = outputs.iter().map(|r| (*r, None, false));
    for (r, shape, read) in reads.chain(ends).collect::<Vec<_>>() {
        let p = &mut layers[nodes[r.node].layer];
        let LayerOp::Opaque(o) = &mut p.op else {
            continue;
        };
        if r.index >= MAX_UNKNOWN_OUTPUTS {
            return Err(config_error(
                &format!("{} ({})", p.name, p.class),
                format!(
                    "output {} is read: more than {MAX_UNKNOWN_OUTPUTS} outputs",
                    r.index
                ),
            ));
        }
        let slots = o.outputs.entry(r.node).or_default();
        if slots.len() <= r.index {
            slots.resize(r.index + 1, None);
        }
        match (&slots[r.index], shape) {
            (None, Some(s)) => slots[r.index] = Some(s),
            (None, None) if read => {
                return Err(config_error(
                    &format!("{} ({})", p.name, p.class),
                    "wgcnn does not know this layer class, and the file does not record the \
                     shape of its output (a Keras 2 file: save the model with Keras 3)",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A Functional model: layers, their calls (`inbound_nodes`), inputs and outputs.
fn functional(
    name: String,
    config: &Map<String, Value>,
    entries: &[Value],
    trainable: bool,
) -> Result<Model> {
    // Every call first, so references can be resolved in any order.
    struct Call {
        layer: usize,
        reads: Reads,
    }
    let mut calls: Vec<Call> = Vec::new();
    let mut layer_nodes: Vec<Vec<usize>> = Vec::new();
    let mut parsed_layers = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (l, entry) in entries.iter().enumerate() {
        let (class, _, layer_name) = entry_parts(entry)?;
        let nodes: Vec<(Reads, Vec<Value>)> = entry
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .map(|n| n.iter().map(call_args).collect())
            .unwrap_or_default();
        let first_args = nodes.first().map(|(_, a)| a.clone()).unwrap_or_default();
        let parsed = parse_entry(entry, None, &first_args)?;
        if by_name.insert(layer_name.clone(), l).is_some() {
            return Err(config_error(&layer_name, "two layers have this name"));
        }
        let mut ids = Vec::new();
        if class == "InputLayer" || (nodes.is_empty() && matches!(parsed.op, LayerOp::Input(_))) {
            calls.push(Call {
                layer: l,
                reads: Reads::default(),
            });
            ids.push(calls.len() - 1);
        } else {
            for (reads, _) in nodes {
                calls.push(Call { layer: l, reads });
                ids.push(calls.len() - 1);
            }
        }
        layer_nodes.push(ids);
        parsed_layers.push(parsed);
    }
    // How a reference's node index counts a layer's calls. Keras 2 (list-format nodes)
    // numbers a nested model's calls after a built-in call of its own (input to output) when
    // the nested model declares its input, in `inbound_nodes` and in the model's endpoints
    // alike. Keras 3 numbers every layer's calls from 0 in `inbound_nodes`, but a nested
    // Functional's from 1 in `input_layers` / `output_layers`, where its loader subtracts one
    // (so index 0 reads Python's index −1: the last call).
    let legacy = entries.iter().any(|e| {
        e.get("inbound_nodes")
            .and_then(Value::as_array)
            .and_then(|n| n.first())
            .is_some_and(Value::is_array)
    });
    let builtin_node = |l: usize, site: Site| match &parsed_layers[l].op {
        LayerOp::Model(m) if legacy => m.declared_input,
        LayerOp::Model(m) => site == Site::Endpoint && m.class_name == "Functional",
        _ => false,
    };
    let resolve = |r: &Ref, site: Site| -> Result<TensorRef> {
        let (layer_name, node_index, tensor_index) = r;
        let l = by_name
            .get(layer_name)
            .ok_or_else(|| config_error(layer_name, "is referenced but not defined"))?;
        let calls = &layer_nodes[*l];
        let index = match (builtin_node(*l, site), *node_index) {
            (true, 0) if !legacy => calls.len().checked_sub(1),
            (true, k) => k.checked_sub(1),
            (false, k) => Some(k),
        };
        let node = index.and_then(|i| calls.get(i)).ok_or_else(|| {
            config_error(
                layer_name,
                format!(
                    "has no call number {node_index} (it is called {} times)",
                    calls.len()
                ),
            )
        })?;
        Ok(TensorRef {
            node: *node,
            index: *tensor_index,
        })
    };
    let mut nodes = Vec::with_capacity(calls.len());
    for call in &calls {
        let inputs = call
            .reads
            .refs
            .iter()
            .map(|r| resolve(r, Site::Call))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| {
                let p = &parsed_layers[call.layer];
                e.in_layer(format!("{} ({})", p.name, p.class))
            })?;
        nodes.push(Node {
            layer: call.layer,
            inputs,
            outputs: Vec::new(),
        });
    }
    let inputs = endpoints(config.get("input_layers"))
        .iter()
        .map(|r| resolve(r, Site::Endpoint))
        .collect::<Result<Vec<_>>>()?;
    let outputs = endpoints(config.get("output_layers"))
        .iter()
        .map(|r| resolve(r, Site::Endpoint))
        .collect::<Result<Vec<_>>>()?;
    if inputs.is_empty() || outputs.is_empty() {
        return Err(config_error(
            &name,
            "the model lists no inputs or no outputs",
        ));
    }
    let recorded: Vec<&[Option<Vec<usize>>]> =
        calls.iter().map(|c| c.reads.shapes.as_slice()).collect();
    record_opaque_outputs(&mut parsed_layers, &recorded, &nodes, &outputs)?;
    for r in &inputs {
        if !matches!(parsed_layers[nodes[r.node].layer].op, LayerOp::Input(_)) {
            return Err(config_error(
                &parsed_layers[nodes[r.node].layer].name,
                "a model input that is not an InputLayer",
            ));
        }
    }
    let layers = parsed_layers
        .into_iter()
        .zip(layer_nodes)
        .map(|(p, ids)| LayerEntry {
            name: p.name,
            class_name: p.class,
            trainable: p.trainable,
            is_op: p.is_op,
            listed: true,
            op: p.op,
            weights: Vec::new(),
            nodes: ids,
        })
        .collect();
    let graph = Graph {
        layers,
        nodes,
        order: Vec::new(),
        inputs,
        outputs,
    };
    Model::new(name, "Functional".into(), trainable, graph)
}
