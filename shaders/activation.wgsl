// Element-wise activations, shared by the kernels that fuse one into their store; prepended at
// build time. Codes are the positions in Activation::ALL (src/activation.rs), whose `apply` is
// the f64 reference for each formula here. NaN is kept wherever Keras keeps it: WGSL's max, min
// and clamp leave NaN to the implementation, so those cases are tested explicitly.

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
        case 1u: { return relu(x); }
        case 2u: { return sigmoid(x); }
        case 3u: { return tanh_safe(x); }
        case 4u: { return relu6(x); }
        case 5u: { return x * sigmoid(x); }
        case 6u: { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752)); }
        case 7u: {
            let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
            return 0.5 * x * (1.0 + tanh_safe(inner));
        }
        case 8u: { return relu6(x + 3.0) / 6.0; }
        case 9u: { return x * (relu6(x + 3.0) / 6.0); }
        case 10u: { return softplus(x); }
        case 11u: { return x / (abs(x) + 1.0); }
        case 12u: { return select(expm1(x), x, x > 0.0); }
        case 13u: { return 1.0507009873554805 * select(1.6732632423543772 * expm1(x), x, x > 0.0); }
        case 14u: { return select(0.2 * x, x, x >= 0.0); }
        case 15u: { return exp(x); }
        case 16u: { return x * tanh_safe(softplus(x)); }
        case 17u: {
            if is_nan(x) {
                return x;
            }
            return max_keras(x, 0.0) + expm1(min_keras(x, 0.0));
        }
        case 18u: { return -softplus(-x); }
        case 19u: {
            // GL may compare NaN as true: test it first.
            if is_nan(x) {
                return x;
            }
            return select(select(x, -1.0, x < -1.0), 1.0, x > 1.0);
        }
        case 20u: { return x - tanh_safe(x); }
        case 21u: { return select(select(0.0, x + 0.5, x < -0.5), x - 0.5, x > 0.5); }
        case 22u: { return select(0.0, x, abs(x) > 0.5); }
        case 23u: {
            if is_nan(x) {
                return x;
            }
            return select(select((x + 1.0) * (x + 1.0) * 0.25, x, x >= 1.0), 0.0, x <= -1.0);
        }
        case 24u: { return 0.5 * (x + sqrt(x * x + 4.0)); }
        case 25u: { return select(select(0.5 * (x + 1.0), 1.0, x >= 1.0), 0.0, x <= -1.0); }
        default: { return x; }
    }
}

fn activate4(code: u32, v: vec4<f32>) -> vec4<f32> {
    if code == 0u {
        return v;
    }
    return vec4<f32>(activate(code, v.x), activate(code, v.y), activate(code, v.z), activate(code, v.w));
}
