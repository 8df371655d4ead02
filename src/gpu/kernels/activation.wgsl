// Element-wise activations, shared by the kernels that fuse one into their store; prepended at
// build time. Each activation's code is the `ACT_*` const below, its position in Activation::ALL
// (src/activation.rs, whose `apply` is the f64 reference for each formula here); the kernel
// contract test checks every const and `activate`'s cases against the host's table. NaN is kept wherever Keras keeps it: WGSL's max, min
// and clamp leave NaN to the implementation, so those cases are tested explicitly.

const ACT_LINEAR: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_RELU6: u32 = 4u;
const ACT_SILU: u32 = 5u;
const ACT_GELU: u32 = 6u;
const ACT_GELU_TANH: u32 = 7u;
const ACT_HARD_SIGMOID: u32 = 8u;
const ACT_HARD_SILU: u32 = 9u;
const ACT_SOFTPLUS: u32 = 10u;
const ACT_SOFTSIGN: u32 = 11u;
const ACT_ELU: u32 = 12u;
const ACT_SELU: u32 = 13u;
const ACT_LEAKY_RELU: u32 = 14u;
const ACT_EXPONENTIAL: u32 = 15u;
const ACT_MISH: u32 = 16u;
const ACT_CELU: u32 = 17u;
const ACT_LOG_SIGMOID: u32 = 18u;
const ACT_HARD_TANH: u32 = 19u;
const ACT_TANH_SHRINK: u32 = 20u;
const ACT_SOFT_SHRINK: u32 = 21u;
const ACT_HARD_SHRINK: u32 = 22u;
const ACT_SPARSE_PLUS: u32 = 23u;
const ACT_SQUAREPLUS: u32 = 24u;
const ACT_SPARSE_SIGMOID: u32 = 25u;

fn relu(x: f32) -> f32 {
    return select(0.0, x, x > 0.0 || is_nan(x));
}

// min(max(x, 0), 6) as XLA computes it: NaN kept, −0.0 and below give +0.0.
fn relu6(x: f32) -> f32 {
    if is_nan(x) {
        return x;
    }
    return select(0.0, min(x, 6.0), x > 0.0);
}

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

// Some drivers build tanh from exponentials, which overflow to NaN for large |x|; tanh(±15)
// already rounds to ±1 in f32, so clamping finite values changes no result.
fn tanh_safe(x: f32) -> f32 {
    // NaN and ±0.0 pass through (GL's tanh turns −0.0 into +0.0).
    if is_nan(x) || x == 0.0 {
        return x;
    }
    return tanh(clamp(x, -15.0, 15.0));
}

// log(1 + y) for y in [0, 1], accurate where 1 + y would round to 1.
fn log1p_small(y: f32) -> f32 {
    if y < 1e-4 {
        return y - 0.5 * y * y;
    }
    return log(1.0 + y);
}

// softplus(x) = log(1 + e^x), computed as max(x, 0) + log(1 + e^-|x|) so nothing overflows.
fn softplus(x: f32) -> f32 {
    if is_nan(x) {
        return x;
    }
    return max(x, 0.0) + log1p_small(exp(-abs(x)));
}

// e^x − 1, accurate near 0.
fn expm1(x: f32) -> f32 {
    if x == 0.0 {
        // expm1(−0.0) = −0.0, which the polynomial below would turn into +0.0.
        return x;
    }
    if abs(x) < 1e-3 {
        return x + 0.5 * x * x + x * x * x / 6.0;
    }
    return exp(x) - 1.0;
}

// The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
fn erf(x: f32) -> f32 {
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let y = 1.0 - poly * exp(-a * a);
    return select(y, -y, x < 0.0);
}

fn activate(code: u32, x: f32) -> f32 {
    switch code {
        case ACT_RELU: { return relu(x); }
        case ACT_SIGMOID: { return sigmoid(x); }
        case ACT_TANH: { return tanh_safe(x); }
        case ACT_RELU6: { return relu6(x); }
        case ACT_SILU: { return x * sigmoid(x); }
        case ACT_GELU: { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752)); }
        case ACT_GELU_TANH: {
            let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
            return 0.5 * x * (1.0 + tanh_safe(inner));
        }
        case ACT_HARD_SIGMOID: { return relu6(x + 3.0) / 6.0; }
        case ACT_HARD_SILU: { return x * (relu6(x + 3.0) / 6.0); }
        case ACT_SOFTPLUS: { return softplus(x); }
        case ACT_SOFTSIGN: { return x / (abs(x) + 1.0); }
        case ACT_ELU: { return select(expm1(x), x, x > 0.0); }
        case ACT_SELU: { return 1.0507009873554805 * select(1.6732632423543772 * expm1(x), x, x > 0.0); }
        case ACT_LEAKY_RELU: { return select(0.2 * x, x, x >= 0.0); }
        case ACT_EXPONENTIAL: { return exp(x); }
        case ACT_MISH: { return x * tanh_safe(softplus(x)); }
        case ACT_CELU: {
            if is_nan(x) {
                return x;
            }
            return max_keras(x, 0.0) + expm1(min_keras(x, 0.0));
        }
        case ACT_LOG_SIGMOID: { return -softplus(-x); }
        case ACT_HARD_TANH: {
            // GL may compare NaN as true: test it first.
            if is_nan(x) {
                return x;
            }
            return select(select(x, -1.0, x < -1.0), 1.0, x > 1.0);
        }
        case ACT_TANH_SHRINK: { return x - tanh_safe(x); }
        case ACT_SOFT_SHRINK: { return select(select(0.0, x + 0.5, x < -0.5), x - 0.5, x > 0.5); }
        case ACT_HARD_SHRINK: { return select(0.0, x, abs(x) > 0.5); }
        case ACT_SPARSE_PLUS: {
            if is_nan(x) {
                return x;
            }
            return select(select((x + 1.0) * (x + 1.0) * 0.25, x, x >= 1.0), 0.0, x <= -1.0);
        }
        case ACT_SQUAREPLUS: { return 0.5 * (x + sqrt(x * x + 4.0)); }
        case ACT_SPARSE_SIGMOID: { return select(select(0.5 * (x + 1.0), 1.0, x >= 1.0), 0.0, x <= -1.0); }
        case ACT_LINEAR, default: { return x; }
    }
}

fn activate4(code: u32, v: vec4<f32>) -> vec4<f32> {
    if code == ACT_LINEAR {
        return v;
    }
    return vec4<f32>(activate(code, v.x), activate(code, v.y), activate(code, v.z), activate(code, v.w));
}
