// Element-wise layers: y = f(x·scale + shift), one value (main) or one vec4 (main4) per
// invocation. `scale`/`shift` are either per-channel buffers (BatchNormalization folded on the
// host, Normalization, per-channel Rescaling) or the scalars in Params (Rescaling, `x + 3.0`).
// f is an activation (activation.wgsl), Keras's ReLU layer, LeakyReLU or ELU with their
// parameters. The output may be a channel slice of a larger tensor (a Concatenate's output).

// Mirrors `UnaryParams` in unary.rs (the kernel contract test checks every field).
struct Params {
    // Values (main) or vec4s (main4) to compute.
    total: u32,
    // Channels on the last axis (in vec4s for main4).
    channels: u32,
    // What f is: one of the MODE_* consts below.
    mode: u32,
    activation: u32,
    // Whether `scale` and `shift` hold per-channel values.
    per_channel: u32,
    // ReLU layer: whether max_value applies.
    has_max: u32,
    max_value: f32,
    negative_slope: f32,
    threshold: f32,
    alpha: f32,
    // Scalar affine map applied first: x·scalar_scale + scalar_shift.
    scalar_scale: f32,
    scalar_shift: f32,
    groups_x: u32,
    // Output rows are out_pitch floats apart, starting at out_offset (in vec4s for main4).
    out_pitch: u32,
    out_offset: u32,
    // Whether the scalar map applies (an identity one is skipped, which keeps −0.0).
    has_scalar: u32,
}

// Params.mode: f is the activation `activation`, Keras's ReLU layer, LeakyReLU(alpha) or
// ELU(alpha). The host's codes are `Mode` in unary.rs.
const MODE_ACTIVATION: u32 = 0u;
const MODE_RELU_LAYER: u32 = 1u;
const MODE_LEAKY_RELU: u32 = 2u;
const MODE_ELU: u32 = 3u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> shift: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;
@group(0) @binding(1) var<storage, read> input4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scale4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> shift4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output4: array<vec4<f32>>;

// Keras's ReLU layer, step by step as keras.activations.relu composes it.
fn relu_layer(x: f32) -> f32 {
    let ns = p.negative_slope;
    let th = p.threshold;
    if ns != 0.0 && p.has_max == 0u && th == 0.0 {
        return select(ns * x, x, x >= 0.0);
    }
    var clip_max = p.has_max != 0u;
    var y: f32;
    if th != 0.0 {
        y = select(0.0, x, x > th);
    } else if clip_max && p.max_value == 6.0 {
        y = relu6(x);
        clip_max = false;
    } else {
        y = relu(x);
    }
    if clip_max && !is_nan(y) {
        y = min_keras(max_keras(y, 0.0), p.max_value);
    }
    if ns != 0.0 {
        y = y - ns * relu(th - x);
    }
    return y;
}

fn finish(x: f32) -> f32 {
    switch p.mode {
        case MODE_RELU_LAYER: { return relu_layer(x); }
        case MODE_LEAKY_RELU: { return select(p.alpha * x, x, x >= 0.0); }
        case MODE_ELU: { return select(p.alpha * expm1(x), x, x > 0.0); }
        case MODE_ACTIVATION, default: { return activate(p.activation, x); }
    }
}

fn finish4(v: vec4<f32>) -> vec4<f32> {
    if p.mode == MODE_ACTIVATION {
        return activate4(p.activation, v);
    }
    return vec4<f32>(finish(v.x), finish(v.y), finish(v.z), finish(v.w));
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let c = idx % p.channels;
    var v = input[idx];
    if p.has_scalar != 0u {
        v = v * p.scalar_scale + p.scalar_shift;
    }
    if p.per_channel != 0u {
        v = v * scale[c] + shift[c];
    }
    output[(idx / p.channels) * p.out_pitch + p.out_offset + c] = finish(v);
}

@compute @workgroup_size(WG_SIZE)
fn main4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let c = idx % p.channels;
    var v = input4[idx];
    if p.has_scalar != 0u {
        v = v * p.scalar_scale + p.scalar_shift;
    }
    if p.per_channel != 0u {
        v = v * scale4[c] + shift4[c];
    }
    output4[(idx / p.channels) * p.out_pitch + p.out_offset + c] = finish4(v);
}
