//! Keras 3 architecture JSON (`config.json` in a `.keras` file, or `model.to_json()`) into a
//! [`Model`]. Everything that changes what a layer computes is read and checked; an unknown
//! layer, option value or graph shape is an error naming the layer, never silently ignored.

use serde_json::{Map, Value};

use super::layer::{Layer, LayerActivation, ReluSpec};
use super::{Model, ModelLayer};
use crate::error::{Error, Result};
use crate::ops::{Conv2dSpec, Pool2dSpec};
use crate::shape::Padding;

fn config_error(layer: &str, message: impl Into<String>) -> Error {
    Error::ModelConfig {
        layer: layer.to_string(),
        message: message.into(),
    }
}

/// Keys that only matter for training or bookkeeping; any other key must be understood.
const IGNORED_KEYS: &[&str] = &[
    "name",
    "trainable",
    "dtype",
    "kernel_initializer",
    "bias_initializer",
    "beta_initializer",
    "gamma_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "beta_regularizer",
    "gamma_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "beta_constraint",
    "gamma_constraint",
    "momentum",
    "rate",
    "seed",
    "noise_shape",
    "synchronized",
    "sparse",
    "ragged",
    "optional",
    "input_shape",
    "batch_input_shape",
    "batch_shape",
    "batch_size",
    "quantization_config",
    "lora_rank",
    "lora_alpha",
    "renorm",
    "renorm_clipping",
    "renorm_momentum",
];

/// Reads one layer's config, checking that every key is either understood or ignorable.
struct LayerConfig<'a> {
    name: &'a str,
    class: &'a str,
    config: &'a Map<String, Value>,
}

impl<'a> LayerConfig<'a> {
    fn error(&self, message: impl Into<String>) -> Error {
        config_error(&format!("{} ({})", self.name, self.class), message)
    }

    /// Fails on keys this layer does not understand (unless unset: null, false or empty).
    fn check_keys(&self, understood: &[&str]) -> Result<()> {
        for (key, value) in self.config {
            let unset = matches!(value, Value::Null | Value::Bool(false))
                || value.as_array().is_some_and(Vec::is_empty);
            if !understood.contains(&key.as_str())
                && !IGNORED_KEYS.contains(&key.as_str())
                && !unset
            {
                return Err(self.error(format!("unsupported option '{key}' = {value}")));
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    fn usize(&self, key: &str) -> Result<usize> {
        self.get(key)
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| self.error(format!("'{key}' must be a non-negative integer")))
    }

    fn pair(&self, key: &str, default: Option<[usize; 2]>) -> Result<[usize; 2]> {
        let Some(value) = self.get(key) else {
            return default.ok_or_else(|| self.error(format!("'{key}' is missing")));
        };
        let as_usize = |v: &Value| v.as_u64().and_then(|v| usize::try_from(v).ok());
        match value {
            Value::Array(items) if items.len() == 2 => {
                match (as_usize(&items[0]), as_usize(&items[1])) {
                    (Some(a), Some(b)) => Ok([a, b]),
                    _ => Err(self.error(format!("'{key}' = {value} is not two integers"))),
                }
            }
            v => as_usize(v).map(|n| [n, n]).ok_or_else(|| {
                self.error(format!("'{key}' = {value} is not an integer or a pair"))
            }),
        }
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.error(format!("'{key}' must be true or false"))),
        }
    }

    fn f32(&self, key: &str, default: Option<f32>) -> Result<Option<f32>> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .map(|x| Some(x as f32))
                .ok_or_else(|| self.error(format!("'{key}' must be a number"))),
        }
    }

    fn str(&self, key: &str, default: &'a str) -> Result<&'a str> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_str()
                .ok_or_else(|| self.error(format!("'{key}' must be a string"))),
        }
    }

    fn padding(&self) -> Result<Padding> {
        let p = self.str("padding", "valid")?;
        p.parse()
            .map_err(|_| self.error(format!("padding '{p}' is not supported (valid, same)")))
    }

    fn channels_last(&self) -> Result<()> {
        match self.str("data_format", "channels_last")? {
            "channels_last" => Ok(()),
            other => Err(self.error(format!(
                "data_format '{other}' is not supported (channels_last only)"
            ))),
        }
    }

    fn activation(&self) -> Result<LayerActivation> {
        let name = match self.get("activation") {
            None => "linear",
            Some(Value::String(s)) => s.as_str(),
            Some(v) => {
                return Err(self.error(format!("activation {v} is not supported (a name is)")))
            }
        };
        LayerActivation::from_keras(name).ok_or_else(|| {
            self.error(format!(
                "activation '{name}' is not supported (linear, relu, sigmoid, tanh, softmax)"
            ))
        })
    }

    fn last_axis(&self, key: &str) -> Result<()> {
        let axis = self.get(key).cloned().unwrap_or(Value::from(-1));
        let ok = match &axis {
            Value::Number(n) => n.as_i64() == Some(-1),
            Value::Array(a) => a.len() == 1 && a[0].as_i64() == Some(-1),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.error(format!(
                "{key} = {axis} is not supported (the last axis, -1, only)"
            )))
        }
    }

    fn pool(&self) -> Result<Pool2dSpec> {
        self.check_keys(&["pool_size", "strides", "padding", "data_format"])?;
        self.channels_last()?;
        let pool = self.pair("pool_size", Some([2, 2]))?;
        Ok(Pool2dSpec::new(pool)
            .strides(self.pair("strides", Some(pool))?)
            .padding(self.padding()?))
    }

    /// The layer this config describes.
    fn layer(&self) -> Result<Layer> {
        Ok(match self.class {
            "InputLayer" => Layer::Input(Vec::new()),
            "Conv2D" => {
                self.check_keys(&[
                    "filters",
                    "kernel_size",
                    "strides",
                    "padding",
                    "data_format",
                    "dilation_rate",
                    "groups",
                    "activation",
                    "use_bias",
                ])?;
                self.channels_last()?;
                if self.get("groups").is_some() && self.usize("groups")? != 1 {
                    return Err(self.error("groups > 1 is not supported"));
                }
                let activation = self.activation()?;
                let spec = Conv2dSpec::new(self.usize("filters")?, self.pair("kernel_size", None)?)
                    .strides(self.pair("strides", Some([1, 1]))?)
                    .padding(self.padding()?)
                    .dilation(self.pair("dilation_rate", Some([1, 1]))?)
                    .use_bias(self.bool("use_bias", true)?)
                    .activation(activation.elementwise());
                spec.validate().map_err(|e| self.error(e.to_string()))?;
                Layer::Conv2d {
                    spec,
                    softmax: activation == LayerActivation::Softmax,
                }
            }
            "MaxPooling2D" => Layer::MaxPool2d(self.pool()?),
            "AveragePooling2D" => Layer::AvgPool2d(self.pool()?),
            "GlobalMaxPooling2D" | "GlobalAveragePooling2D" => {
                self.check_keys(&["data_format", "keepdims"])?;
                self.channels_last()?;
                let keepdims = self.bool("keepdims", false)?;
                if self.class == "GlobalMaxPooling2D" {
                    Layer::GlobalMaxPool2d { keepdims }
                } else {
                    Layer::GlobalAvgPool2d { keepdims }
                }
            }
            "Flatten" => {
                self.check_keys(&["data_format"])?;
                self.channels_last()?;
                Layer::Flatten
            }
            "Dense" => {
                self.check_keys(&["units", "activation", "use_bias"])?;
                let units = self.usize("units")?;
                if units == 0 {
                    return Err(self.error("units must be at least 1"));
                }
                Layer::Dense {
                    units,
                    use_bias: self.bool("use_bias", true)?,
                    activation: self.activation()?,
                }
            }
            "Activation" => {
                self.check_keys(&["activation"])?;
                Layer::Activation(self.activation()?)
            }
            "Softmax" => {
                self.check_keys(&["axis"])?;
                self.last_axis("axis")?;
                Layer::Activation(LayerActivation::Softmax)
            }
            "ReLU" => {
                self.check_keys(&["max_value", "negative_slope", "threshold"])?;
                Layer::Relu(ReluSpec {
                    max_value: self.f32("max_value", None)?,
                    negative_slope: self.f32("negative_slope", Some(0.0))?.unwrap_or(0.0),
                    threshold: self.f32("threshold", Some(0.0))?.unwrap_or(0.0),
                })
            }
            "Dropout" | "SpatialDropout2D" | "GaussianDropout" | "GaussianNoise"
            | "AlphaDropout" => {
                self.check_keys(&["stddev"])?;
                Layer::Dropout
            }
            "ZeroPadding2D" => {
                self.check_keys(&["padding", "data_format"])?;
                self.channels_last()?;
                Layer::ZeroPadding2d(self.zero_padding()?)
            }
            "BatchNormalization" => {
                self.check_keys(&["axis", "epsilon", "center", "scale"])?;
                self.last_axis("axis").or_else(|_| {
                    // Keras also writes the positive index of the last axis (3 for NHWC).
                    match self.get("axis").and_then(Value::as_i64) {
                        Some(3) => Ok(()),
                        _ => Err(self.error("axis must be the last (channels) axis")),
                    }
                })?;
                Layer::BatchNorm {
                    epsilon: self.f32("epsilon", Some(1e-3))?.unwrap_or(1e-3),
                    center: self.bool("center", true)?,
                    scale: self.bool("scale", true)?,
                }
            }
            other => return Err(self.error(format!("layer type '{other}' is not supported yet"))),
        })
    }

    fn zero_padding(&self) -> Result<[[usize; 2]; 2]> {
        let value = self.get("padding").cloned().unwrap_or(Value::from(1));
        let as_usize = |v: &Value| v.as_u64().and_then(|v| usize::try_from(v).ok());
        let axis = |v: &Value| -> Option<[usize; 2]> {
            match v {
                Value::Array(a) if a.len() == 2 => Some([as_usize(&a[0])?, as_usize(&a[1])?]),
                other => as_usize(other).map(|n| [n, n]),
            }
        };
        let parsed = match &value {
            Value::Array(a) if a.len() == 2 => axis(&a[0]).zip(axis(&a[1])).map(|(h, w)| [h, w]),
            other => as_usize(other).map(|n| [[n, n], [n, n]]),
        };
        parsed.ok_or_else(|| {
            self.error(format!(
                "padding {value} is not N, (H, W) or ((T, B), (L, R))"
            ))
        })
    }
}

/// The per-example input shape from an InputLayer config or a layer's build/input shape.
fn input_shape(config: &Map<String, Value>) -> Option<Vec<usize>> {
    let from = |v: &Value| -> Option<Vec<usize>> {
        let dims = v.as_array()?;
        dims.iter()
            .skip(1)
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
            .collect()
    };
    ["batch_shape", "batch_input_shape"]
        .iter()
        .find_map(|k| config.get(*k).and_then(from))
        .or_else(|| {
            // Keras 2's `input_shape` has no batch dimension.
            let dims = config.get("input_shape")?.as_array()?;
            dims.iter()
                .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                .collect()
        })
}

/// The names a functional layer's inbound nodes read from (Keras 3 `keras_history`, or the
/// Keras 2 `[[name, node, tensor, kwargs]]` form).
fn inbound_names(layer: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(h)) = map.get("keras_history") {
                    if let Some(name) = h.first().and_then(Value::as_str) {
                        out.push(name.to_string());
                        return;
                    }
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => {
                // Keras 2: ["name", node_index, tensor_index, {...}]
                if let (Some(Value::String(name)), Some(Value::Number(_))) =
                    (items.first(), items.get(1))
                {
                    out.push(name.clone());
                    return;
                }
                items.iter().for_each(|v| walk(v, out));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(nodes) = layer.get("inbound_nodes") {
        walk(nodes, &mut out);
    }
    out
}

/// Names listed in `input_layers`/`output_layers`: `["name", 0, 0]` or a list of those.
fn endpoint_names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) if items.first().is_some_and(Value::is_string) => {
            vec![items[0].as_str().unwrap_or_default().to_string()]
        }
        Some(Value::Array(items)) => items.iter().flat_map(|i| endpoint_names(Some(i))).collect(),
        _ => Vec::new(),
    }
}

fn parse_layer(entry: &Value) -> Result<ModelLayer> {
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
        .unwrap_or(class);
    let reader = LayerConfig {
        name,
        class,
        config,
    };
    let mut layer = reader.layer()?;
    if let Layer::Input(shape) = &mut layer {
        *shape = input_shape(config).ok_or_else(|| reader.error("no input shape"))?;
    }
    Ok(ModelLayer {
        name: name.to_string(),
        class_name: class.to_string(),
        layer,
        trainable: config
            .get("trainable")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        declared_input: input_shape(config).or_else(|| {
            entry
                .get("build_config")
                .and_then(|b| b.get("input_shape"))
                .and_then(|v| {
                    input_shape(&Map::from_iter([("batch_shape".to_string(), v.clone())]))
                })
        }),
    })
}

/// Builds a model from Keras's architecture JSON.
pub(super) fn model_from_json(text: &str) -> Result<Model> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| config_error("architecture", format!("not valid JSON: {e}")))?;
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
    let model_trainable = config
        .get("trainable")
        .and_then(Value::as_bool)
        .unwrap_or(true);

    let mut layers = match class {
        "Sequential" => {
            let mut layers = entries
                .iter()
                .map(parse_layer)
                .collect::<Result<Vec<_>>>()?;
            if !matches!(layers.first().map(|l| &l.layer), Some(Layer::Input(_))) {
                // No InputLayer: Keras takes the shape from the build config or the first layer.
                let shape = config
                    .get("build_input_shape")
                    .and_then(|v| {
                        input_shape(&Map::from_iter([("batch_shape".to_string(), v.clone())]))
                    })
                    .or_else(|| layers.first().and_then(|l| l.declared_input.clone()))
                    .ok_or_else(|| config_error(&name, "the model declares no input shape"))?;
                layers.insert(0, ModelLayer::input(shape));
            }
            layers
        }
        "Functional" | "Model" => functional_chain(&name, config, entries)?,
        other => {
            return Err(config_error(
                &name,
                format!("model class '{other}' is not supported (Sequential, Functional)"),
            ))
        }
    };
    if !model_trainable {
        layers.iter_mut().for_each(|l| l.trainable = false);
    }
    Model::new(name, class == "Sequential", layers)
}

/// A functional model whose graph is a chain, in order from its input to its output.
fn functional_chain(
    name: &str,
    config: &Map<String, Value>,
    entries: &[Value],
) -> Result<Vec<ModelLayer>> {
    let inputs = endpoint_names(config.get("input_layers"));
    let outputs = endpoint_names(config.get("output_layers"));
    if inputs.len() != 1 || outputs.len() != 1 {
        return Err(config_error(
            name,
            format!("{} inputs and {} outputs: only single-input, single-output chains are supported yet", inputs.len(), outputs.len()),
        ));
    }
    let mut parsed = Vec::new();
    let mut feeds: Vec<Vec<String>> = Vec::new();
    for entry in entries {
        // The graph is checked before the layer itself, so a merge layer (Add, Concatenate)
        // is reported as the branch it is.
        let sources = inbound_names(entry);
        let mut distinct = sources.clone();
        distinct.dedup();
        if sources.len() > 1 {
            let layer_name = entry
                .get("name")
                .or_else(|| entry.get("config").and_then(|c| c.get("name")))
                .and_then(Value::as_str)
                .unwrap_or("?");
            return Err(config_error(
                layer_name,
                format!(
                    "takes {} inputs ({}): branches and merges are not supported yet",
                    sources.len(),
                    distinct.join(", ")
                ),
            ));
        }
        feeds.push(sources);
        parsed.push(parse_layer(entry)?);
    }
    // Follow the chain from the input, one consumer at a time.
    let mut order = Vec::new();
    let mut current = inputs[0].clone();
    loop {
        let index = parsed
            .iter()
            .position(|l| l.name == current)
            .ok_or_else(|| config_error(&current, "is referenced but not defined"))?;
        order.push(index);
        if current == outputs[0] {
            break;
        }
        let consumers: Vec<usize> = (0..parsed.len())
            .filter(|&i| feeds[i].first() == Some(&current))
            .collect();
        match consumers.as_slice() {
            [next] => current = parsed[*next].name.clone(),
            [] => {
                return Err(config_error(
                    &current,
                    "does not lead to the model's output",
                ))
            }
            many => {
                let names: Vec<&str> = many.iter().map(|&i| parsed[i].name.as_str()).collect();
                return Err(config_error(
                    &current,
                    format!(
                        "feeds {} layers ({}): branches are not supported yet",
                        many.len(),
                        names.join(", ")
                    ),
                ));
            }
        }
        if order.len() > parsed.len() {
            return Err(config_error(name, "the layer graph has a cycle"));
        }
    }
    if order.len() != parsed.len() {
        let unused: Vec<&str> = (0..parsed.len())
            .filter(|i| !order.contains(i))
            .map(|i| parsed[i].name.as_str())
            .collect();
        return Err(config_error(
            name,
            format!(
                "layers off the input-to-output chain are not supported yet: {}",
                unused.join(", ")
            ),
        ));
    }
    if !matches!(parsed[order[0]].layer, Layer::Input(_)) {
        return Err(config_error(
            &inputs[0],
            "the model input is not an InputLayer",
        ));
    }
    let mut slots: Vec<Option<ModelLayer>> = parsed.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
