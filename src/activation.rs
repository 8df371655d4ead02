//! Keras's element-wise activations, by the names Keras serializes them with.
//!
//! [`Activation::apply`] is the reference: Keras's (JAX backend's) formula evaluated in `f64`,
//! keeping NaN wherever Keras keeps it (Rust's `f64::max` would drop it, so comparisons here
//! are written out). `src/gpu/kernels/activation.wgsl` implements the same functions by the same codes.

use std::fmt;
use std::str::FromStr;

/// An element-wise activation, named as in Keras (`activation='relu'`).
///
/// Softmax and log-softmax work along an axis, not element by element; they are layers of
/// their own (see [`crate::layers::Softmax`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Activation {
    /// Identity (Keras `None` / `'linear'`).
    #[default]
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `x · sigmoid(x)` (Keras `silu`, alias `swish`).
    Silu,
    /// `x · Φ(x)` with the exact normal CDF (Keras `gelu`).
    Gelu,
    /// `x · Φ(x)` with Φ's tanh approximation (Keras `ops.gelu(approximate=True)`).
    GeluTanh,
    /// `relu6(x + 3) / 6`.
    HardSigmoid,
    /// `x · hard_sigmoid(x)` (Keras `hard_silu`, alias `hard_swish`).
    HardSilu,
    /// `log(1 + e^x)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x` if `x > 0`, else `e^x − 1`.
    Elu,
    /// Scaled ELU with Keras's fixed constants.
    Selu,
    /// `x` if `x ≥ 0`, else `0.2·x` (Keras's default slope for the string `'leaky_relu'`).
    LeakyRelu,
    /// `e^x`.
    Exponential,
    /// `x · tanh(softplus(x))`.
    Mish,
    /// `max(x, 0) + min(e^x − 1, 0)` (α = 1).
    Celu,
    /// `−softplus(−x)`.
    LogSigmoid,
    /// `x` clipped to `[−1, 1]`.
    HardTanh,
    /// `x − tanh(x)`.
    TanhShrink,
    /// `x ∓ 0.5` outside `[−0.5, 0.5]`, else 0.
    SoftShrink,
    /// `x` outside `[−0.5, 0.5]`, else 0.
    HardShrink,
    /// 0 below −1, `x` above 1, `(x + 1)²/4` between.
    SparsePlus,
    /// `(x + sqrt(x² + 4)) / 2`.
    Squareplus,
    /// 0 below −1, 1 above 1, `(x + 1)/2` between.
    SparseSigmoid,
}

/// SELU's α and scale, as Keras (and JAX) define them.
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// `max(x, y)` that returns NaN when either is NaN, as `jnp.maximum` does.
pub(crate) fn nan_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x > y || (x == y && x.is_sign_positive()) {
        // Equal zeros: +0.0 wins, as in XLA's maximum.
        x
    } else {
        y
    }
}

/// `min(x, y)` that returns NaN when either is NaN, as `jnp.minimum` does.
pub(crate) fn nan_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x < y || (x == y && x.is_sign_negative()) {
        // Equal zeros: −0.0 wins, as in XLA's minimum.
        x
    } else {
        y
    }
}

/// `jax.nn.relu`: `max(x, 0)`, NaN kept; negative inputs and −0.0 give +0.0.
pub(crate) fn relu(x: f64) -> f64 {
    if x.is_nan() || x > 0.0 {
        x
    } else {
        0.0
    }
}

/// `jax.nn.softplus`: `logaddexp(x, 0)`, stable for large |x|.
fn softplus(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn relu6(x: f64) -> f64 {
    nan_min(nan_max(x, 0.0), 6.0)
}

fn sparse_plus(x: f64) -> f64 {
    if x <= -1.0 {
        0.0
    } else if x >= 1.0 {
        x
    } else {
        (x + 1.0) * (x + 1.0) / 4.0
    }
}

impl Activation {
    /// Every activation, in the order of their shader codes.
    pub const ALL: [Activation; 26] = [
        Activation::Linear,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu6,
        Activation::Silu,
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::HardSigmoid,
        Activation::HardSilu,
        Activation::Softplus,
        Activation::Softsign,
        Activation::Elu,
        Activation::Selu,
        Activation::LeakyRelu,
        Activation::Exponential,
        Activation::Mish,
        Activation::Celu,
        Activation::LogSigmoid,
        Activation::HardTanh,
        Activation::TanhShrink,
        Activation::SoftShrink,
        Activation::HardShrink,
        Activation::SparsePlus,
        Activation::Squareplus,
        Activation::SparseSigmoid,
    ];

    /// Applies the activation in double precision (the CPU reference's accuracy).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Linear => x,
            Activation::Relu => relu(x),
            Activation::Relu6 => relu6(x),
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => x.tanh(),
            Activation::Silu => x * sigmoid(x),
            Activation::Gelu => 0.5 * x * libm::erfc(-x / std::f64::consts::SQRT_2),
            Activation::GeluTanh => {
                let inner = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044_715 * x * x * x);
                0.5 * x * (1.0 + inner.tanh())
            }
            Activation::HardSigmoid => relu6(x + 3.0) / 6.0,
            Activation::HardSilu => x * relu6(x + 3.0) / 6.0,
            Activation::Softplus => softplus(x),
            Activation::Softsign => x / (x.abs() + 1.0),
            Activation::Elu => {
                if x > 0.0 {
                    x
                } else {
                    x.exp_m1()
                }
            }
            Activation::Selu => SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() },
            Activation::LeakyRelu => {
                if x >= 0.0 {
                    x
                } else {
                    0.2 * x
                }
            }
            Activation::Exponential => x.exp(),
            Activation::Mish => x * softplus(x).tanh(),
            Activation::Celu => nan_max(x, 0.0) + nan_min(x, 0.0).exp_m1(),
            Activation::LogSigmoid => -softplus(-x),
            // f64::clamp keeps NaN, as Keras's nested `where` does.
            Activation::HardTanh => x.clamp(-1.0, 1.0),
            Activation::TanhShrink => x - x.tanh(),
            Activation::SoftShrink => {
                if x > 0.5 {
                    x - 0.5
                } else if x < -0.5 {
                    x + 0.5
                } else {
                    // Also NaN: Keras's nested `where` falls through to 0.
                    0.0
                }
            }
            Activation::HardShrink => {
                if x.abs() > 0.5 {
                    x
                } else {
                    0.0
                }
            }
            Activation::SparsePlus => {
                if x.is_nan() {
                    // The last branch of Keras's nested where: (x + 1)² / 4.
                    x
                } else {
                    sparse_plus(x)
                }
            }
            Activation::Squareplus => {
                // Keras squares in float32: past √f32::MAX the square is inf.
                let square = x * x;
                let square = if square > f64::from(f32::MAX) {
                    f64::INFINITY
                } else {
                    square
                };
                (x + (square + 4.0).sqrt()) / 2.0
            }
            Activation::SparseSigmoid => {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    0.5 * (x + 1.0)
                }
            }
        }
    }

    /// The code the WGSL shaders switch on (`ACT_*` in `src/gpu/kernels/activation.wgsl`).
    pub(crate) fn shader_code(self) -> u32 {
        Activation::ALL
            .iter()
            .position(|&a| a == self)
            .map_or(0, |i| i as u32)
    }

    /// The Keras name.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Silu => "silu",
            Activation::Gelu => "gelu",
            Activation::GeluTanh => "gelu_tanh",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::HardSilu => "hard_silu",
            Activation::Softplus => "softplus",
            Activation::Softsign => "softsign",
            Activation::Elu => "elu",
            Activation::Selu => "selu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Exponential => "exponential",
            Activation::Mish => "mish",
            Activation::Celu => "celu",
            Activation::LogSigmoid => "log_sigmoid",
            Activation::HardTanh => "hard_tanh",
            Activation::TanhShrink => "tanh_shrink",
            Activation::SoftShrink => "soft_shrink",
            Activation::HardShrink => "hard_shrink",
            Activation::SparsePlus => "sparse_plus",
            Activation::Squareplus => "squareplus",
            Activation::SparseSigmoid => "sparse_sigmoid",
        }
    }

    /// Parses a Keras activation name, including its aliases (`swish`, `hard_swish`).
    /// `gelu_tanh` is wgcnn's name for the approximate GELU, which Keras serializes only as
    /// an op (`ops.gelu(x, approximate=True)`), never as an activation string.
    pub fn from_keras(name: &str) -> Option<Self> {
        match name {
            "swish" => Some(Activation::Silu),
            "hard_swish" => Some(Activation::HardSilu),
            "gelu_tanh" => None,
            other => Activation::ALL.into_iter().find(|a| a.name() == other),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = match s {
            "gelu_tanh" => Some(Activation::GeluTanh),
            other => Activation::from_keras(other),
        };
        parsed.ok_or_else(|| {
            let names: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
            format!(
                "unknown activation '{s}' (expected one of: {})",
                names.join(", ")
            )
        })
    }
}

/// An element-wise function a layer applies: a Keras activation, or one of the parametrized
/// activation layers. What an epilogue fused into a convolution ends with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ElementFn {
    /// A Keras activation.
    Activation(Activation),
    /// Keras's `ReLU(max_value, negative_slope, threshold)` layer.
    ReluLayer {
        /// Upper cap, if any.
        max_value: Option<f32>,
        /// Slope below the threshold.
        negative_slope: f32,
        /// Values at or below it are zero (then scaled by the slope).
        threshold: f32,
    },
    /// `LeakyReLU(negative_slope)`.
    LeakyRelu(f32),
    /// `ELU(alpha)`.
    Elu(f32),
}

impl ElementFn {
    /// The identity.
    pub const LINEAR: ElementFn = ElementFn::Activation(Activation::Linear);

    /// The function on one value, in f64 (the reference).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            ElementFn::Activation(a) => a.apply(x),
            ElementFn::ReluLayer {
                max_value,
                negative_slope,
                threshold,
            } => {
                let (ns, th) = (f64::from(negative_slope), f64::from(threshold));
                // keras.activations.relu, step by step (which decides NaN and ±inf).
                if ns != 0.0 && max_value.is_none() && th == 0.0 {
                    return if x >= 0.0 { x } else { ns * x };
                }
                let mut clip = max_value;
                let mut y = if th != 0.0 {
                    if x > th {
                        x
                    } else {
                        0.0
                    }
                } else if max_value == Some(6.0) {
                    clip = None;
                    nan_min(nan_max(x, 0.0), 6.0)
                } else {
                    relu(x)
                };
                if let Some(m) = clip {
                    y = nan_min(nan_max(y, 0.0), f64::from(m));
                }
                if ns != 0.0 {
                    y -= ns * relu(th - x);
                }
                y
            }
            ElementFn::LeakyRelu(s) => {
                if x >= 0.0 {
                    x
                } else {
                    f64::from(s) * x
                }
            }
            ElementFn::Elu(a) => {
                if x > 0.0 {
                    x
                } else {
                    f64::from(a) * x.exp_m1()
                }
            }
        }
    }

    /// The function on one f32 value, for the fast CPU backend: the cheap functions in f32,
    /// the transcendental ones through the f64 reference (as accurate, and their cost is the
    /// function itself).
    pub fn apply_f32(self, x: f32) -> f32 {
        match self {
            ElementFn::Activation(Activation::Linear) => x,
            ElementFn::Activation(Activation::Relu) => {
                if x > 0.0 || x.is_nan() {
                    x
                } else {
                    0.0
                }
            }
            ElementFn::Activation(Activation::Relu6) => {
                if x.is_nan() {
                    x
                } else if x > 0.0 {
                    x.min(6.0)
                } else {
                    0.0
                }
            }
            ElementFn::Activation(Activation::Sigmoid) => 1.0 / (1.0 + (-x).exp()),
            ElementFn::Activation(Activation::Silu) => x / (1.0 + (-x).exp()),
            ElementFn::Activation(Activation::Tanh) => x.tanh(),
            ElementFn::LeakyRelu(s) => {
                if x >= 0.0 {
                    x
                } else {
                    s * x
                }
            }
            other => other.apply(f64::from(x)) as f32,
        }
    }

    /// The plain activation this is, if any (what the GPU's convolution kernels fuse).
    pub fn as_activation(self) -> Option<Activation> {
        match self {
            ElementFn::Activation(a) => Some(a),
            ElementFn::ReluLayer {
                max_value: None,
                negative_slope: 0.0,
                threshold: 0.0,
            } => Some(Activation::Relu),
            ElementFn::ReluLayer {
                max_value: Some(6.0),
                negative_slope: 0.0,
                threshold: 0.0,
            } => Some(Activation::Relu6),
            _ => None,
        }
    }
}
