//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the stable replay of their
//! corpus (`tests/fuzz_replay.rs`). Each takes arbitrary bytes; any error is a fine outcome,
//! a panic, an abort or a hang is a bug.

use serde_json::{json, Map, Value};

use crate::model::synthetic::input_value;
use crate::model::{Backend, Model};
use crate::tensor::Tensor;

/// The `.npy` reader.
pub fn npy(data: &[u8]) {
    let _ = crate::npy::parse_npy(data, "fuzz.npy");
}

/// The Keras config parser, then everything `wgcnn summary` derives from an accepted config.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(model) = Model::from_json(text) {
        summarize(&model);
    }
}

/// The whole `.keras` loader: zip, config and HDF5 weights.
pub fn keras(data: &[u8]) {
    if let Ok(model) = Model::from_keras_bytes("fuzz.keras", data) {
        summarize(&model);
    }
}

fn summarize(model: &Model) {
    let summary = model.summary();
    let _ = summary.table();
    let _ = summary.explained();
    let _ = summary.to_json();
}

/// The graph structure: `data` decoded into a Keras 3 Functional config ([`graph_case`]), then,
/// if it loads, the summary, the fusion plans, and a forward pass with synthetic weights on the
/// reference and (with `native`) the fast CPU backend. Panics if a pass's output shapes differ
/// from the model's, or if the two backends disagree (one fails, or the numbers differ).
pub fn graph(data: &[u8]) {
    let case = graph_case(data);
    let model = Model::from_json(&case.json);
    no_internal_error(&case.json, "loading", &model);
    let Ok(mut model) = model else {
        return;
    };
    summarize(&model);
    let _ = model.fused_layers(false);
    let _ = model.fused_layers(true);
    let _ = model.node_flops();
    // Mutated references can make a tensor bigger than the decoder planned: keep each run
    // to milliseconds.
    if elements(&model).is_none_or(|n| n.saturating_mul(case.batch) > 1 << 18) {
        return;
    }
    let filled = model.fill_synthetic_weights();
    no_internal_error(&case.json, "synthetic weights", &filled);
    if filled.is_err() {
        return;
    }
    let Ok(inputs) = model
        .input_shapes()
        .iter()
        .enumerate()
        .map(|(i, s)| input_value(i, &[&[case.batch][..], s].concat(), None))
        .collect::<crate::Result<Vec<Tensor>>>()
    else {
        return;
    };
    let inputs: Vec<&Tensor> = inputs.iter().collect();
    let reference = model.run_many(Backend::Reference, &inputs);
    no_internal_error(&case.json, "the reference", &reference);
    if let Ok(outputs) = &reference {
        let got: Vec<&[usize]> = outputs.iter().map(|t| &t.shape()[1..]).collect();
        let want = model.output_shapes();
        assert!(
            got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| g == w),
            "the reference computes outputs {got:?}, the model declares {want:?}\n{}",
            case.json
        );
    }
    #[cfg(feature = "native")]
    {
        let cpu = model.run_many(Backend::Cpu, &inputs);
        no_internal_error(&case.json, "the CPU backend", &cpu);
        compare(&case.json, &reference, &cpu);
    }
}

/// Panics on [`crate::Error::Internal`]: a failed consistency check, a wgcnn bug by definition.
fn no_internal_error<T>(json: &str, what: &str, result: &crate::Result<T>) {
    if let Err(e) = result {
        if let crate::Error::Internal { .. } = e.root() {
            panic!("{what}: {e}\n{json}");
        }
    }
}

/// The elements of every tensor the model's nodes make (nested models' included), per example.
fn elements(model: &Model) -> Option<usize> {
    let mut total = 0usize;
    for (_, node) in model.nodes() {
        for shape in &node.outputs {
            total = total.checked_add(crate::tensor::element_count(shape)?)?;
        }
    }
    for layer in model.layers() {
        if let Some(sub) = layer.submodel() {
            total = total.checked_add(elements(sub)?)?;
        }
    }
    Some(total)
}

/// Panics unless the fast CPU backend's outputs match the reference's: both fail, or both
/// succeed with the same shapes and values within f32 rounding of the outputs' scale (NaN
/// matches NaN, an infinity itself).
#[cfg(feature = "native")]
fn compare(json: &str, reference: &crate::Result<Vec<Tensor>>, cpu: &crate::Result<Vec<Tensor>>) {
    let (r, c) = match (reference, cpu) {
        (Ok(r), Ok(c)) => (r, c),
        (Err(_), Err(_)) => return,
        _ => panic!(
            "reference and CPU backends disagree: {:?} vs {:?}\n{json}",
            reference.as_ref().map(|t| t.len()),
            cpu.as_ref().map(|t| t.len())
        ),
    };
    assert_eq!(r.len(), c.len(), "output counts differ\n{json}");
    for (k, (r, c)) in r.iter().zip(c).enumerate() {
        assert_eq!(r.shape(), c.shape(), "output {k}: shapes differ\n{json}");
        let scale = r
            .data()
            .iter()
            .chain(c.data())
            .filter(|v| v.is_finite())
            .fold(1f32, |m, v| m.max(v.abs()));
        let tolerance = 1e-4 * scale;
        for (i, (&a, &b)) in r.data().iter().zip(c.data()).enumerate() {
            let same = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tolerance;
            assert!(
                same,
                "output {k}, element {i}: reference {a}, CPU {b} (tolerance {tolerance})\n{json}"
            );
        }
    }
}

/// A decoded [`graph`] input: the Functional config and the batch size to run it with.
#[derive(Debug, Clone)]
pub struct GraphCase {
    /// Keras 3 architecture JSON (`model.to_json()`'s format).
    pub json: String,
    /// 1 or 2.
    pub batch: usize,
}

/// Decodes `data` into a Keras 3 Functional config: 1–3 inputs, layers (Dense, merges,
/// Concatenate, Activation, Flatten, Reshape, BatchNormalization, Conv2D, nested Functional
/// and Sequential models up to depth 3), each called 0–3 times on tensors of fitting shapes,
/// and 1–3 outputs. Inputs whose first byte is 0 or 1 mod 4 stay valid; the others break
/// rules at random points (references to missing calls, tensors or layers, forward references
/// and cycles, duplicate names, wrong Keras node numbering, empty or repeated endpoints,
/// non-input model inputs, shapes that do not fit). Every byte string decodes; past its end
/// every choice is 0: the smallest structure, no rule broken.
pub fn graph_case(data: &[u8]) -> GraphCase {
    let mut d = Decoder {
        data,
        at: 1,
        chaos: [0, 0, 8, 24][usize::from(data.first().copied().unwrap_or(0) % 4)],
        names: 0,
    };
    let batch = 1 + d.below(2);
    let inputs: Vec<Vec<usize>> = (0..1 + d.below(3))
        .map(|_| SHAPES[d.below(SHAPES.len())].to_vec())
        .collect();
    let (mut root, _) = d.functional("fuzz".into(), &inputs, 0, 3);
    root.insert("module".into(), "keras.src.models.functional".into());
    root.insert("registered_name".into(), "Functional".into());
    GraphCase {
        json: Value::Object(root).to_string(),
        batch,
    }
}

/// Per-example input shapes: vectors, a matrix, small images (Conv2D's).
const SHAPES: [&[usize]; 6] = [&[3], &[4], &[2, 3], &[4, 4, 2], &[3, 3, 2], &[6]];
/// A tensor larger than this (per example) is never chosen as an input: merges and
/// Concatenate chains would otherwise grow it geometrically.
const MAX_ELEMENTS: usize = 256;
/// Layers created per model, by nesting depth: the whole graph stays a few dozen nodes.
const MAX_LAYERS: [usize; 4] = [8, 5, 3, 2];
/// Linear most often: Dense and Conv2D absorb the BatchNormalization and activation after
/// them on the fast CPU backend only when they are linear themselves.
const ACTIVATIONS: [&str; 16] = [
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "elu",
    "gelu",
    "swish",
    "softplus",
    "log_softmax",
    "linear",
    "linear",
    "linear",
    "linear",
    "linear",
    "linear",
];
const MERGES: [&str; 6] = [
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
];

/// A tensor of the model being built: output `index` of call `node` of layer `name`.
#[derive(Debug, Clone)]
struct Sym {
    name: String,
    node: usize,
    index: usize,
    shape: Vec<usize>,
}

/// A call argument: a tensor (perhaps deliberately wrong), or one chosen among every tensor of
/// the finished model, its own and later calls' included (forward references, cycles).
#[derive(Debug, Clone)]
enum Ref {
    Tensor(Sym),
    Later(u8),
}

/// One layer entry of a Functional model being built.
struct Def {
    name: String,
    /// `class_name`, `config` and the like, all but `inbound_nodes`.
    entry: Map<String, Value>,
    calls: Vec<Vec<Ref>>,
    /// Whether calls pass their tensors as one list (merges, multi-input models).
    list: bool,
    /// The input shapes it was made for and the output shapes it makes.
    ins: Vec<Vec<usize>>,
    outs: Vec<Vec<usize>>,
    /// A nested Functional: Keras 3 numbers its calls from 1 in the model's endpoints.
    functional: bool,
    input: bool,
}

/// The fuzzer's bytes as a stream of choices.
struct Decoder<'a> {
    data: &'a [u8],
    at: usize,
    /// How many of 256 byte values break a rule where one may be broken.
    chaos: u8,
    /// Layers named so far (names are unique across nesting levels, as Keras makes them).
    names: usize,
}

impl Decoder<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// A choice among `n`: always one byte, so that inputs can be written by hand.
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// Whether to break a rule here (never when the input's chaos is 0).
    fn wrong(&mut self) -> bool {
        self.chaos > 0 && self.byte() > u8::MAX - self.chaos
    }

    /// A rule broken a quarter as often: where every layer could break it, and one broken
    /// rule hides the others (the loader reports the first).
    fn rarely(&mut self) -> bool {
        self.wrong() && self.below(4) == 0
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}_{}", self.names)
    }

    /// A tensor of `pool`, the latest by default (a chain).
    fn pick(&mut self, pool: &[Sym]) -> Sym {
        pool[pool.len() - 1 - self.below(pool.len())].clone()
    }

    /// A tensor of `pool` that `fits`, if any (a rule broken now and then: any tensor).
    fn pick_fit(&mut self, pool: &[Sym], fits: impl Fn(&[usize]) -> bool) -> Sym {
        let fitting: Vec<Sym> = pool.iter().filter(|s| fits(&s.shape)).cloned().collect();
        if fitting.is_empty() || self.wrong() {
            self.pick(pool)
        } else {
            self.pick(&fitting)
        }
    }

    /// A call argument for `s`, sometimes deliberately wrong.
    fn reference(&mut self, mut s: Sym) -> Ref {
        if !self.wrong() {
            return Ref::Tensor(s);
        }
        match self.below(4) {
            0 => s.node += 1 + self.below(3),
            1 => s.index += 1 + self.below(2),
            2 => s.name = "ghost".into(),
            _ => return Ref::Later(self.byte()),
        }
        Ref::Tensor(s)
    }

    fn activation(&mut self) -> &'static str {
        ACTIVATIONS[self.below(ACTIVATIONS.len())]
    }

    /// A one-input layer (Dense, Activation, Flatten, Reshape, BatchNormalization, Conv2D on
    /// images): its class, config and output shape on `x`.
    fn simple(&mut self, name: &str, x: &[usize]) -> (&'static str, Value, Vec<usize>) {
        let n: usize = x.iter().product();
        let mut out = x.to_vec();
        let (class, config) = match self.below(7) {
            1 => ("Activation", json!({"activation": self.activation()})),
            2 => {
                out = vec![n];
                ("Flatten", json!({"data_format": "channels_last"}))
            }
            3 => {
                let d = (2..n).find(|&d| n.is_multiple_of(d)).unwrap_or(n).max(1);
                let (target, shape): (Value, Vec<usize>) = match self.below(4) {
                    0 => (json!([n]), vec![n]),
                    1 => (json!([-1]), vec![n]),
                    2 => {
                        let r: Vec<usize> = x.iter().rev().copied().collect();
                        (json!(r), r)
                    }
                    _ => (json!([d, -1]), vec![d, n / d]),
                };
                out = shape;
                let target = if self.wrong() { json!([n + 1]) } else { target };
                ("Reshape", json!({"target_shape": target}))
            }
            4 => (
                "BatchNormalization",
                json!({"axis": -1, "epsilon": 0.001, "center": !self.flag(), "scale": !self.flag()}),
            ),
            5 if x.len() == 3 => {
                let filters = 2 + self.below(2);
                let k = if x[0].min(x[1]) >= 3 && self.flag() {
                    3
                } else {
                    1
                };
                let same = !self.flag();
                out = if same {
                    vec![x[0], x[1], filters]
                } else {
                    vec![
                        (x[0] + 1).saturating_sub(k),
                        (x[1] + 1).saturating_sub(k),
                        filters,
                    ]
                };
                let config = json!({
                    "filters": filters, "kernel_size": [k, k], "strides": [1, 1],
                    "padding": if same { "same" } else { "valid" },
                    "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                    "activation": self.activation(), "use_bias": !self.flag(),
                });
                ("Conv2D", config)
            }
            _ => {
                let units = [3, 2, 4, 1][self.below(4)];
                if let Some(last) = out.last_mut() {
                    *last = units;
                }
                let config = json!({
                    "units": units, "activation": self.activation(), "use_bias": !self.flag(),
                });
                ("Dense", config)
            }
        };
        let mut config = config;
        config["name"] = name.into();
        config["trainable"] = true.into();
        (class, config, out)
    }

    /// A Functional model on `inputs` (its entry, without a name or calls, and its output
    /// shapes), with at most `max_outputs` outputs.
    fn functional(
        &mut self,
        name: String,
        inputs: &[Vec<usize>],
        depth: usize,
        max_outputs: usize,
    ) -> (Map<String, Value>, Vec<Vec<usize>>) {
        let mut defs: Vec<Def> = Vec::new();
        let mut pool: Vec<Sym> = Vec::new();
        let mut all: Vec<Sym> = Vec::new();
        for shape in inputs {
            let input = self.fresh("input");
            let mut batch_shape = vec![Value::Null];
            batch_shape.extend(shape.iter().map(|&d| Value::from(d)));
            defs.push(Def {
                name: input.clone(),
                entry: entry(
                    "InputLayer",
                    json!({"batch_shape": batch_shape, "dtype": "float32", "name": input}),
                ),
                calls: vec![Vec::new()],
                list: false,
                ins: Vec::new(),
                outs: vec![shape.clone()],
                functional: false,
                input: true,
            });
            let sym = Sym {
                name: input,
                node: 0,
                index: 0,
                shape: shape.clone(),
            };
            pool.push(sym.clone());
            all.push(sym);
        }
        for _ in 0..MAX_LAYERS[depth] {
            if self.byte() == 0 {
                break;
            }
            let choice = self.below(10);
            let callable: Vec<usize> = (0..defs.len())
                .filter(|&l| !defs[l].input && defs[l].calls.len() < 3)
                .collect();
            if choice == 0 && !callable.is_empty() {
                // Call a layer again (shared weights, a nested model reused).
                let l = callable[self.below(callable.len())];
                let ins = defs[l].ins.clone();
                let args = ins
                    .iter()
                    .map(|s| {
                        let x = self.pick_fit(&pool, |t| t == s.as_slice());
                        self.reference(x)
                    })
                    .collect();
                call(&mut defs[l], args, &mut pool, &mut all);
                continue;
            }
            let taken: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
            let mut def = match choice {
                1 | 2 => self.merge(&pool),
                3 => self.concatenate(&pool),
                4 | 5 if depth < 3 => self.nested(&pool, depth),
                _ => {
                    let name = self.fresh("layer");
                    let x = self.pick(&pool);
                    let (class, config, out) = self.simple(&name, &x.shape);
                    Def {
                        name,
                        entry: entry(class, config),
                        calls: Vec::new(),
                        list: false,
                        ins: vec![x.shape],
                        outs: vec![out],
                        functional: false,
                        input: false,
                    }
                }
            };
            if self.rarely() {
                // A duplicate name: the entry's and its config's.
                def.name = taken[self.below(taken.len())].clone();
                def.entry.insert("name".into(), def.name.clone().into());
                if let Some(Value::Object(c)) = def.entry.get_mut("config") {
                    c.insert("name".into(), def.name.clone().into());
                }
            }
            // Most layers are called once when made (a few never are).
            if !self.wrong() {
                let ins = def.ins.clone();
                let args = ins
                    .iter()
                    .map(|s| {
                        let x = self.pick_fit(&pool, |t| t == s.as_slice());
                        self.reference(x)
                    })
                    .collect();
                call(&mut def, args, &mut pool, &mut all);
            }
            defs.push(def);
        }
        let outputs: Vec<Sym> = (0..1 + self.below(max_outputs))
            .map(|_| self.pick(&pool))
            .collect();
        let output_shapes = outputs.iter().map(|s| s.shape.clone()).collect();
        let mut outputs: Vec<Value> = outputs
            .into_iter()
            .map(|s| self.endpoint(&defs, s))
            .collect();
        if self.wrong() {
            match self.below(3) {
                0 => outputs.clear(),
                1 => {
                    let first = outputs[0].clone();
                    outputs.extend(std::iter::repeat_n(first, 1 + self.below(4)));
                }
                _ => outputs.reverse(),
            }
        }
        let mut model_inputs: Vec<Value> = defs
            .iter()
            .filter(|d| d.input)
            .map(|d| json!([d.name, 0, 0]))
            .collect();
        if self.wrong() {
            match self.below(4) {
                0 => drop(model_inputs.remove(0)),
                1 => {
                    let x = self.pick(&pool);
                    model_inputs.push(self.endpoint(&defs, x));
                }
                2 => model_inputs.push(model_inputs[0].clone()),
                _ => model_inputs.clear(),
            }
        }
        if self.wrong() {
            // Any layer order: the loader must resolve references regardless.
            defs.reverse();
        }
        let layers: Vec<Value> = defs.iter().map(|d| emit(d, &all)).collect();
        let mut config = Map::new();
        config.insert("name".into(), name.into());
        config.insert("trainable".into(), true.into());
        config.insert("layers".into(), layers.into());
        config.insert("input_layers".into(), self.endpoints(model_inputs));
        config.insert("output_layers".into(), self.endpoints(outputs));
        let mut model = Map::new();
        model.insert("class_name".into(), "Functional".into());
        model.insert("config".into(), config.into());
        (model, output_shapes)
    }

    /// An endpoint list; a single one sometimes unwrapped, as Keras writes it.
    fn endpoints(&mut self, list: Vec<Value>) -> Value {
        if list.len() == 1 && self.flag() {
            list.into_iter().next().unwrap_or_default()
        } else {
            list.into()
        }
    }

    /// `[name, node, index]` for `input_layers` / `output_layers`: Keras 3 counts a nested
    /// Functional's calls from 1 there.
    fn endpoint(&mut self, defs: &[Def], s: Sym) -> Value {
        let functional = defs.iter().any(|d| d.name == s.name && d.functional);
        let mut node = s.node + usize::from(functional);
        let mut index = s.index;
        if self.wrong() {
            match self.below(3) {
                0 => node = node.saturating_sub(1),
                1 => node += 2,
                _ => index += 1,
            }
        }
        json!([s.name, node, index])
    }

    /// A merge of 2 or 3 tensors of one shape (Subtract: 2).
    fn merge(&mut self, pool: &[Sym]) -> Def {
        let class = MERGES[self.below(MERGES.len())];
        let first = self.pick(pool);
        let n = if class == "Subtract" && !self.wrong() {
            2
        } else {
            2 + self.below(2)
        };
        let name = self.fresh("merge");
        Def {
            entry: entry(class, json!({"name": name, "trainable": true})),
            name,
            calls: Vec::new(),
            list: true,
            ins: vec![first.shape.clone(); n],
            outs: vec![first.shape],
            functional: false,
            input: false,
        }
    }

    /// Concatenate along the last axis: 2 or 3 tensors that agree elsewhere.
    fn concatenate(&mut self, pool: &[Sym]) -> Def {
        let first = self.pick(pool);
        let fits =
            |t: &[usize]| t.split_last().map(|l| l.1) == first.shape.split_last().map(|l| l.1);
        let ins: Vec<Vec<usize>> = std::iter::once(first.shape.clone())
            .chain((0..1 + self.below(2)).map(|_| self.pick_fit(pool, fits).shape))
            .collect();
        let mut out = first.shape.clone();
        if let Some(last) = out.last_mut() {
            *last = ins.iter().map(|s| s.last().copied().unwrap_or(0)).sum();
        }
        let name = self.fresh("concatenate");
        Def {
            entry: entry(
                "Concatenate",
                json!({"name": name, "trainable": true, "axis": -1}),
            ),
            name,
            calls: Vec::new(),
            list: true,
            ins,
            outs: vec![out],
            functional: false,
            input: false,
        }
    }

    /// A nested Functional (1 or 2 inputs, 1–3 outputs) or Sequential model.
    fn nested(&mut self, pool: &[Sym], depth: usize) -> Def {
        let sequential = self.flag();
        let name = self.fresh(if sequential {
            "sequential"
        } else {
            "functional"
        });
        let n = if sequential { 1 } else { 1 + self.below(2) };
        let ins: Vec<Vec<usize>> = (0..n).map(|_| self.pick(pool).shape).collect();
        let (mut entry, outs) = if sequential {
            self.sequential(&name, &ins[0], depth + 1)
        } else {
            self.functional(name.clone(), &ins, depth + 1, 3)
        };
        entry.insert("name".into(), name.clone().into());
        Def {
            name,
            entry,
            calls: Vec::new(),
            list: n > 1,
            ins,
            outs,
            functional: !sequential,
            input: false,
        }
    }

    /// A Sequential model on `x` (its entry, without a name or calls, and its output shape).
    /// It declares its input as Keras 3 does (an InputLayer and `build_input_shape`), or only
    /// `build_input_shape`, or only the outer entry's `build_config`.
    fn sequential(
        &mut self,
        name: &str,
        x: &[usize],
        depth: usize,
    ) -> (Map<String, Value>, Vec<Vec<usize>>) {
        let mut batch_shape = vec![Value::Null];
        batch_shape.extend(x.iter().map(|&d| Value::from(d)));
        let declared = self.below(3);
        let mut layers = Vec::new();
        if declared == 0 {
            let input = self.fresh("input");
            layers.push(Value::Object(entry(
                "InputLayer",
                json!({"batch_shape": batch_shape, "dtype": "float32", "name": input}),
            )));
        }
        let mut shape = x.to_vec();
        for _ in 0..1 + self.below(MAX_LAYERS[depth]) {
            if self.rarely() {
                let input = self.fresh("input");
                layers.push(Value::Object(entry(
                    "InputLayer",
                    json!({"batch_shape": [null, 3], "name": input}),
                )));
            }
            let layer_name = self.fresh("layer");
            if depth < 3 && self.below(4) == 0 {
                let (mut sub, outs) = if self.flag() {
                    self.sequential(&layer_name, &shape, depth + 1)
                } else {
                    self.functional(layer_name.clone(), &[shape.clone()], depth + 1, 1)
                };
                sub.insert("name".into(), layer_name.into());
                layers.push(Value::Object(sub));
                shape = outs.into_iter().next().unwrap_or_default();
            } else {
                let (class, config, out) = self.simple(&layer_name, &shape);
                layers.push(Value::Object(entry(class, config)));
                shape = out;
            }
        }
        let mut config = json!({"name": name, "trainable": true, "layers": layers});
        if declared < 2 {
            config["build_input_shape"] = batch_shape.clone().into();
        }
        let mut model = entry("Sequential", config);
        if declared == 2 {
            model.insert("build_config".into(), json!({"input_shape": batch_shape}));
        }
        (model, vec![shape])
    }
}

/// A layer entry without calls.
fn entry(class: &str, config: Value) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("module".into(), "keras.layers".into());
    e.insert("class_name".into(), class.into());
    if let Some(name) = config.get("name") {
        e.insert("name".into(), name.clone());
    }
    e.insert("config".into(), config);
    e
}

/// Records a call of `def` on `args`: its outputs join the tensors made so far, and those
/// small enough the ones later calls may read.
fn call(def: &mut Def, args: Vec<Ref>, pool: &mut Vec<Sym>, all: &mut Vec<Sym>) {
    let node = def.calls.len();
    def.calls.push(args);
    for (index, shape) in def.outs.iter().enumerate() {
        let sym = Sym {
            name: def.name.clone(),
            node,
            index,
            shape: shape.clone(),
        };
        if shape.iter().product::<usize>() <= MAX_ELEMENTS {
            pool.push(sym.clone());
        }
        all.push(sym);
    }
}

/// A layer entry with its calls, as Keras 3 writes them; `all` resolves [`Ref::Later`].
fn emit(def: &Def, all: &[Sym]) -> Value {
    let tensor = |r: &Ref| {
        let s = match r {
            Ref::Tensor(s) => s,
            Ref::Later(k) => &all[usize::from(*k) % all.len()],
        };
        let mut shape = vec![Value::Null];
        shape.extend(s.shape.iter().map(|&d| Value::from(d)));
        json!({"class_name": "__keras_tensor__", "config": {
            "shape": shape, "dtype": "float32", "keras_history": [s.name, s.node, s.index]}})
    };
    let calls: Vec<Value> = if def.input {
        Vec::new()
    } else {
        def.calls
            .iter()
            .map(|args| {
                let arg = if def.list || args.len() != 1 {
                    Value::Array(args.iter().map(tensor).collect())
                } else {
                    tensor(&args[0])
                };
                let model = def
                    .entry
                    .get("config")
                    .is_some_and(|c| c.get("layers").is_some());
                let kwargs = if model {
                    json!({"mask": null})
                } else {
                    json!({})
                };
                json!({"args": [arg], "kwargs": kwargs})
            })
            .collect()
    };
    let mut e = def.entry.clone();
    e.insert("inbound_nodes".into(), calls.into());
    Value::Object(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_is_a_valid_model() {
        let case = graph_case(&[]);
        let model = Model::from_json(&case.json).unwrap();
        assert_eq!(model.input_shapes(), [vec![3]]);
        graph(&[]);
    }
}
