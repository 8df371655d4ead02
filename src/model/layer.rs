//! The layers a model can hold: their output shapes, parameter counts and weight shapes.
//!
//! Shapes here never include the batch dimension (Keras prints it as `None`).

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::ops::{Conv2dSpec, Pool2dSpec};
use crate::shape::plan_axis;
use crate::tensor::element_count;

/// A layer's activation: an element-wise one, or softmax over the last axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerActivation {
    /// Element-wise (`linear`, `relu`, `sigmoid`, `tanh`).
    #[default]
    Linear,
    /// Any element-wise activation other than linear.
    Elementwise(Activation),
    /// Softmax over the last axis.
    Softmax,
}

impl LayerActivation {
    /// Parses a Keras activation name.
    pub fn from_keras(name: &str) -> Option<Self> {
        match name {
            "linear" => Some(Self::Linear),
            "softmax" => Some(Self::Softmax),
            other => other.parse::<Activation>().ok().map(Self::Elementwise),
        }
    }

    /// The element-wise part that can be fused into a kernel's store (linear for softmax).
    pub fn elementwise(self) -> Activation {
        match self {
            Self::Elementwise(a) => a,
            Self::Linear | Self::Softmax => Activation::Linear,
        }
    }

    /// The Keras name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Elementwise(a) => a.name(),
            Self::Softmax => "softmax",
        }
    }
}

/// Keras's `ReLU` layer: `max_value` cap, `negative_slope` below `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReluSpec {
    /// Upper cap, if any.
    pub max_value: Option<f32>,
    /// Slope below the threshold.
    pub negative_slope: f32,
    /// Values below it are scaled by `negative_slope` (after subtracting it).
    pub threshold: f32,
}

impl ReluSpec {
    /// Applies the function to one value (the CPU reference).
    pub fn apply(&self, x: f32) -> f32 {
        let y = if x >= self.threshold {
            x
        } else {
            self.negative_slope * (x - self.threshold)
        };
        match self.max_value {
            Some(m) if y > m => m,
            _ => y,
        }
    }
}

/// One layer of a model, with its Keras hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `InputLayer`: the model's input (shape without the batch).
    Input(Vec<usize>),
    /// `Conv2D`; the spec carries the element-wise activation, `softmax` a softmax after it.
    Conv2d {
        /// Geometry, bias, and element-wise activation.
        spec: Conv2dSpec,
        /// Softmax over channels after the convolution (`activation='softmax'`).
        softmax: bool,
    },
    /// `MaxPooling2D`.
    MaxPool2d(Pool2dSpec),
    /// `AveragePooling2D` ('same' averages over the real cells only).
    AvgPool2d(Pool2dSpec),
    /// `GlobalMaxPooling2D`.
    GlobalMaxPool2d {
        /// Keep the output as `(1, 1, C)` instead of `(C,)`.
        keepdims: bool,
    },
    /// `GlobalAveragePooling2D`.
    GlobalAvgPool2d {
        /// Keep the output as `(1, 1, C)` instead of `(C,)`.
        keepdims: bool,
    },
    /// `Flatten`.
    Flatten,
    /// `Dense` on the last axis.
    Dense {
        /// Output features.
        units: usize,
        /// Whether there is a bias.
        use_bias: bool,
        /// Activation.
        activation: LayerActivation,
    },
    /// `Activation`, `Softmax` (last axis) and the plain activations.
    Activation(LayerActivation),
    /// `ReLU`.
    Relu(ReluSpec),
    /// `Dropout`: the identity at inference.
    Dropout,
    /// `ZeroPadding2D`: `[[top, bottom], [left, right]]`.
    ZeroPadding2d([[usize; 2]; 2]),
    /// `BatchNormalization` over the last axis, with moving statistics (inference).
    BatchNorm {
        /// Added to the variance.
        epsilon: f32,
        /// Whether `beta` exists.
        center: bool,
        /// Whether `gamma` exists.
        scale: bool,
    },
}

fn rank_error(layer: &str, expected: &str, input: &[usize]) -> Error {
    Error::ShapeMismatch {
        op: "model",
        what: "layer input",
        expected: format!("{expected} for {layer}"),
        actual: input.to_vec(),
    }
}

/// `(h, w, c)` of a 3-D (per-example) shape.
fn hwc(layer: &str, input: &[usize]) -> Result<[usize; 3]> {
    input
        .try_into()
        .map_err(|_| rank_error(layer, "(height, width, channels)", input))
}

impl Layer {
    /// The Keras class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            Layer::Input(_) => "InputLayer",
            Layer::Conv2d { .. } => "Conv2D",
            Layer::MaxPool2d(_) => "MaxPooling2D",
            Layer::AvgPool2d(_) => "AveragePooling2D",
            Layer::GlobalMaxPool2d { .. } => "GlobalMaxPooling2D",
            Layer::GlobalAvgPool2d { .. } => "GlobalAveragePooling2D",
            Layer::Flatten => "Flatten",
            Layer::Dense { .. } => "Dense",
            Layer::Activation(_) => "Activation",
            Layer::Relu(_) => "ReLU",
            Layer::Dropout => "Dropout",
            Layer::ZeroPadding2d(_) => "ZeroPadding2D",
            Layer::BatchNorm { .. } => "BatchNormalization",
        }
    }

    /// The output shape (without batch) for an input shape (without batch).
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let name = self.class_name();
        let out = match self {
            Layer::Input(shape) => shape.clone(),
            Layer::Conv2d { spec, .. } => {
                let [h, w, c] = hwc(name, input)?;
                spec.output_shape([1, h, w, c])?[1..].to_vec()
            }
            Layer::MaxPool2d(spec) | Layer::AvgPool2d(spec) => {
                let [h, w, c] = hwc(name, input)?;
                spec.output_shape([1, h, w, c])?[1..].to_vec()
            }
            Layer::GlobalMaxPool2d { keepdims } | Layer::GlobalAvgPool2d { keepdims } => {
                let [_, _, c] = hwc(name, input)?;
                if *keepdims {
                    vec![1, 1, c]
                } else {
                    vec![c]
                }
            }
            Layer::Flatten => vec![element_count(input).ok_or(Error::Overflow {
                op: "flatten",
                what: "output",
            })?],
            Layer::Dense { units, .. } => {
                if input.is_empty() {
                    return Err(rank_error(name, "at least one feature axis", input));
                }
                let mut out = input.to_vec();
                if let Some(last) = out.last_mut() {
                    *last = *units;
                }
                out
            }
            Layer::Activation(_) | Layer::Relu(_) | Layer::Dropout | Layer::BatchNorm { .. } => {
                if input.is_empty() {
                    return Err(rank_error(name, "at least one feature axis", input));
                }
                input.to_vec()
            }
            Layer::ZeroPadding2d([[t, b], [l, r]]) => {
                let [h, w, c] = hwc(name, input)?;
                let grow = |x: usize, a: usize, b: usize| {
                    x.checked_add(a)
                        .and_then(|x| x.checked_add(b))
                        .ok_or(Error::Overflow {
                            op: "zero_padding2d",
                            what: "output",
                        })
                };
                vec![grow(h, *t, *b)?, grow(w, *l, *r)?, c]
            }
        };
        if out.contains(&0) {
            return Err(Error::ShapeMismatch {
                op: "model",
                what: "layer output",
                expected: format!("no empty dimension after {name}"),
                actual: out,
            });
        }
        Ok(out)
    }

    /// The shapes of the weights Keras stores for this layer, in its order (`vars/0`, `vars/1`,
    /// ...), each with whether it is trainable by nature (BatchNormalization's moving
    /// statistics are not).
    pub fn weight_shapes(&self, input: &[usize]) -> Vec<(Vec<usize>, bool)> {
        match self {
            Layer::Conv2d { spec, .. } => {
                let cin = input.last().copied().unwrap_or(0);
                let mut w = vec![(spec.kernel_shape(cin).to_vec(), true)];
                if spec.use_bias {
                    w.push((vec![spec.filters], true));
                }
                w
            }
            Layer::Dense {
                units, use_bias, ..
            } => {
                let fin = input.last().copied().unwrap_or(0);
                let mut w = vec![(vec![fin, *units], true)];
                if *use_bias {
                    w.push((vec![*units], true));
                }
                w
            }
            Layer::BatchNorm { center, scale, .. } => {
                let c = vec![input.last().copied().unwrap_or(0)];
                let mut w = Vec::new();
                if *scale {
                    w.push((c.clone(), true));
                }
                if *center {
                    w.push((c.clone(), true));
                }
                w.push((c.clone(), false));
                w.push((c, false));
                w
            }
            _ => Vec::new(),
        }
    }

    /// Lines deriving the output size and parameter count with the numbers filled in, as the
    /// seed documents do (`wgcnn summary --explain`).
    pub fn explain(&self, input: &[usize], output: &[usize]) -> Vec<String> {
        let mut lines = Vec::new();
        let window = |lines: &mut Vec<String>,
                      k: [usize; 2],
                      s: [usize; 2],
                      d: [usize; 2],
                      same: bool| {
            for (axis, i) in [("height", 0), ("width", 1)] {
                let (inp, out) = (input[i], output[i]);
                let e = d[i] * (k[i] - 1) + 1;
                let pad = plan_axis("explain", "axis", inp, k[i], s[i], d[i], same_padding(same));
                let line = if same {
                    let (before, after) =
                        pad.map(|p| (p.pad_before, p.pad_after)).unwrap_or((0, 0));
                    format!(
                        "{axis}: out = ceil({inp} / {}) = {out}  (same: pad {before} before, {after} after)",
                        s[i]
                    )
                } else if d[i] > 1 {
                    format!(
                        "{axis}: out = ceil(({inp} − {e} + 1) / {}) = {out}  (valid; effective window {} × ({} − 1) + 1 = {e})",
                        s[i], d[i], k[i]
                    )
                } else {
                    format!(
                        "{axis}: out = ceil(({inp} − {e} + 1) / {}) = {out}  (valid)",
                        s[i]
                    )
                };
                lines.push(line);
            }
        };
        match self {
            Layer::Conv2d { spec, .. } => {
                window(
                    &mut lines,
                    spec.kernel_size,
                    spec.strides,
                    spec.dilation,
                    is_same(spec.padding),
                );
                let [kh, kw] = spec.kernel_size;
                let cin = input.last().copied().unwrap_or(0);
                let f = spec.filters;
                lines.push(if spec.use_bias {
                    format!(
                        "params = {f} × ({kh} × {kw} × {cin} + 1) = {}",
                        f * (kh * kw * cin + 1)
                    )
                } else {
                    format!(
                        "params = {f} × ({kh} × {kw} × {cin}) = {}  (no bias)",
                        f * kh * kw * cin
                    )
                });
            }
            Layer::MaxPool2d(spec) | Layer::AvgPool2d(spec) => {
                window(
                    &mut lines,
                    spec.pool_size,
                    spec.strides,
                    [1, 1],
                    is_same(spec.padding),
                );
                lines.push("params = 0".into());
            }
            Layer::GlobalMaxPool2d { .. } | Layer::GlobalAvgPool2d { .. } => {
                lines.push(format!(
                    "one value per channel over {} × {}: out = {}",
                    input[0], input[1], input[2]
                ));
                lines.push("params = 0".into());
            }
            Layer::Flatten => {
                let factors: Vec<String> = input.iter().map(usize::to_string).collect();
                lines.push(format!("out = {} = {}", factors.join(" × "), output[0]));
                lines.push("params = 0".into());
            }
            Layer::Dense {
                units, use_bias, ..
            } => {
                let fin = input.last().copied().unwrap_or(0);
                lines.push(if *use_bias {
                    format!("params = {units} × ({fin} + 1) = {}", units * (fin + 1))
                } else {
                    format!("params = {units} × {fin} = {}  (no bias)", units * fin)
                });
            }
            Layer::ZeroPadding2d([[t, b], [l, r]]) => {
                lines.push(format!(
                    "height: out = {} + {t} + {b} = {}",
                    input[0], output[0]
                ));
                lines.push(format!(
                    "width: out = {} + {l} + {r} = {}",
                    input[1], output[1]
                ));
                lines.push("params = 0".into());
            }
            Layer::BatchNorm { center, scale, .. } => {
                let c = input.last().copied().unwrap_or(0);
                let trainable = usize::from(*center) + usize::from(*scale);
                lines.push(format!(
                    "params = {} × {c} = {}  ({} trainable: gamma/beta; {} non-trainable: moving mean, variance)",
                    trainable + 2,
                    (trainable + 2) * c,
                    trainable * c,
                    2 * c
                ));
            }
            Layer::Input(_) | Layer::Activation(_) | Layer::Relu(_) | Layer::Dropout => {
                lines.push("shape unchanged; params = 0".into());
            }
        }
        lines
    }
}

fn is_same(p: crate::shape::Padding) -> bool {
    p == crate::shape::Padding::Same
}

fn same_padding(same: bool) -> crate::shape::Padding {
    if same {
        crate::shape::Padding::Same
    } else {
        crate::shape::Padding::Valid
    }
}
