//! Reading one Keras layer config (`{"class_name": .., "config": {..}}`): strict about keys, so
//! that an option that changes the math is never silently ignored.

use serde_json::{Map, Value};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::shape::Padding;

/// Keys that only matter for training or bookkeeping; any other key must be understood by the
/// layer, or be unset (null, false, an empty list).
const IGNORED_KEYS: &[&str] = &[
    "name",
    "trainable",
    "dtype",
    "autocast",
    "kernel_initializer",
    "bias_initializer",
    "depthwise_initializer",
    "pointwise_initializer",
    "recurrent_initializer",
    "embeddings_initializer",
    "beta_initializer",
    "gamma_initializer",
    "alpha_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "depthwise_regularizer",
    "pointwise_regularizer",
    "recurrent_regularizer",
    "embeddings_regularizer",
    "beta_regularizer",
    "gamma_regularizer",
    "alpha_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "depthwise_constraint",
    "pointwise_constraint",
    "recurrent_constraint",
    "embeddings_constraint",
    "beta_constraint",
    "gamma_constraint",
    "alpha_constraint",
    "momentum",
    "seed",
    "synchronized",
    "sparse",
    "ragged",
    "optional",
    "input_shape",
    "batch_input_shape",
    "batch_shape",
    "batch_size",
    "input_dim_is_known",
    "quantization_config",
    "lora_rank",
    "lora_alpha",
    "renorm",
    "renorm_clipping",
    "renorm_momentum",
    "input_length",
];

/// One layer's config and — for operations recorded from `keras.ops` calls (`x + 3.0`) — the
/// constant arguments of its call. Errors about it get the layer's name from the graph.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a> {
    /// The `config` object.
    pub config: &'a Map<String, Value>,
    /// Positional arguments of the layer's first call, tensors replaced by `null`.
    pub args: &'a [Value],
}

impl<'a> Config<'a> {
    /// An [`Error::InvalidConfig`] about this layer; the graph adds the layer's name.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::InvalidConfig {
            op: "config",
            reason: message.into(),
        }
    }

    /// Fails on keys this layer does not understand (unless unset: null, false or empty).
    pub fn check_keys(&self, understood: &[&str]) -> Result<()> {
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

    /// A value, `None` if absent or null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    /// A required non-negative integer.
    pub fn usize(&self, key: &str) -> Result<usize> {
        self.get(key)
            .and_then(as_usize)
            .ok_or_else(|| self.error(format!("'{key}' must be a non-negative integer")))
    }

    /// An optional non-negative integer.
    pub fn usize_or(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(_) => self.usize(key),
        }
    }

    /// A positive integer (at least 1).
    pub fn positive(&self, key: &str, default: Option<usize>) -> Result<usize> {
        let v = match (self.get(key), default) {
            (None, Some(d)) => d,
            _ => self.usize(key)?,
        };
        if v == 0 {
            return Err(self.error(format!("'{key}' must be at least 1")));
        }
        Ok(v)
    }

    /// `N` or `[N, M]` (Keras accepts both for kernel sizes, strides, ...).
    pub fn pair(&self, key: &str, default: Option<[usize; 2]>) -> Result<[usize; 2]> {
        let bad = || self.error(format!("'{key}' must be N or [N, M]"));
        match (self.get(key), default) {
            (None, Some(d)) => Ok(d),
            (None, None) => Err(self.error(format!("'{key}' is missing"))),
            (Some(Value::Array(a)), _) if a.len() == 2 => Ok([
                as_usize(&a[0]).ok_or_else(bad)?,
                as_usize(&a[1]).ok_or_else(bad)?,
            ]),
            (Some(v), _) => as_usize(v).map(|n| [n, n]).ok_or_else(bad),
        }
    }

    /// `N` or a list of `rank` values (the kernel sizes, strides, ... of 1D and 3D layers).
    pub fn tuple(&self, key: &str, rank: usize, default: Option<usize>) -> Result<Vec<usize>> {
        let bad = || self.error(format!("'{key}' must be N or a list of {rank} integers"));
        match (self.get(key), default) {
            (None, Some(d)) => Ok(vec![d; rank]),
            (None, None) => Err(self.error(format!("'{key}' is missing"))),
            (Some(Value::Array(a)), _) if a.len() == rank => {
                a.iter().map(|v| as_usize(v).ok_or_else(bad)).collect()
            }
            (Some(v), _) => as_usize(v).map(|n| vec![n; rank]).ok_or_else(bad),
        }
    }

    /// An optional number.
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => number(v)
                .map(Some)
                .ok_or_else(|| self.error(format!("'{key}' must be a number"))),
        }
    }

    /// A number with a default.
    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64> {
        Ok(self.f64(key)?.unwrap_or(default))
    }

    /// A boolean with a default.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.error(format!("'{key}' must be true or false"))),
        }
    }

    /// A string, `None` if absent.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.error(format!("'{key}' must be a string"))),
        }
    }

    /// Keras's `padding`: `valid` or `same` (`causal` and `full` are refused).
    pub fn padding(&self) -> Result<Padding> {
        match self.str("padding")?.unwrap_or("valid") {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(self.error(format!("padding '{other}' is not supported"))),
        }
    }

    /// `data_format` must be `channels_last` (wgcnn's layout) if given.
    pub fn channels_last(&self) -> Result<()> {
        match self.str("data_format")? {
            None | Some("channels_last") => Ok(()),
            Some(other) => Err(self.error(format!(
                "data_format '{other}' is not supported (wgcnn is channels_last)"
            ))),
        }
    }

    /// The layer's `activation`, as a string or a serialized function object.
    pub fn activation(&self) -> Result<LayerActivation> {
        let Some(v) = self.get("activation") else {
            return Ok(LayerActivation::Elementwise(Activation::Linear));
        };
        let name = match v {
            Value::String(s) => s.as_str(),
            // Keras 3 sometimes serializes the function: {"class_name": "function", "config": "relu", ..}.
            Value::Object(o) => o
                .get("config")
                .and_then(Value::as_str)
                .or_else(|| o.get("class_name").and_then(Value::as_str))
                .unwrap_or("?"),
            _ => "?",
        };
        LayerActivation::from_keras(name)
            .ok_or_else(|| self.error(format!("activation '{name}' is not supported")))
    }

    /// An integer `axis` (possibly negative) or a one-element list of one.
    pub fn axis_value(&self, key: &str, default: i64) -> Result<i64> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Array(a)) if a.len() == 1 => a[0]
                .as_i64()
                .ok_or_else(|| self.error(format!("'{key}' must be an integer"))),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| self.error(format!("'{key}' must be an integer"))),
        }
    }
}

/// A JSON number as `f64`, also the non-finite values Python's `json` writes as bare `NaN`,
/// `Infinity` and `-Infinity` (which the loader quotes, JSON having no such tokens).
pub(crate) fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| match v.as_str()? {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    })
}

/// A non-negative JSON integer as `usize` (also `2.0`, which some writers produce).
pub(crate) fn as_usize(v: &Value) -> Option<usize> {
    if let Some(u) = v.as_u64() {
        return usize::try_from(u).ok();
    }
    let f = v.as_f64()?;
    (f >= 0.0 && f.fract() == 0.0 && f <= u32::MAX as f64).then_some(f as usize)
}

/// A layer's activation: an element-wise one, or softmax over the last axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerActivation {
    /// Element-wise (`linear`, `relu`, ...).
    Elementwise(Activation),
    /// Softmax over the last axis.
    Softmax,
    /// Log-softmax over the last axis.
    LogSoftmax,
}

impl Default for LayerActivation {
    fn default() -> Self {
        LayerActivation::Elementwise(Activation::Linear)
    }
}

impl LayerActivation {
    /// Parses a Keras activation name.
    pub fn from_keras(name: &str) -> Option<Self> {
        match name {
            "softmax" => Some(Self::Softmax),
            "log_softmax" => Some(Self::LogSoftmax),
            other => Activation::from_keras(other).map(Self::Elementwise),
        }
    }

    /// The element-wise part that can be fused into a kernel's store (linear for softmax).
    pub fn elementwise(self) -> Activation {
        match self {
            Self::Elementwise(a) => a,
            Self::Softmax | Self::LogSoftmax => Activation::Linear,
        }
    }

    /// The softmax applied after the element-wise part, if any: `Some(log)`.
    pub fn softmax(self) -> Option<bool> {
        match self {
            Self::Elementwise(_) => None,
            Self::Softmax => Some(false),
            Self::LogSoftmax => Some(true),
        }
    }

    /// The Keras name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Elementwise(a) => a.name(),
            Self::Softmax => "softmax",
            Self::LogSoftmax => "log_softmax",
        }
    }
}
