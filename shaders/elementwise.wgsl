// Element-wise layers: an optional per-channel affine map (BatchNormalization folded into
// scale and shift on the host), then an activation or Keras's ReLU layer.
// Uses activate from activation.wgsl.

struct Params {
    total: u32,
    channels: u32,
    // Activation code (see activation.wgsl), used when relu_layer is 0.
    activation: u32,
    has_affine: u32,
    // Keras ReLU(max_value, negative_slope, threshold) instead of `activation`.
    relu_layer: u32,
    has_max: u32,
    max_value: f32,
    negative_slope: f32,
    threshold: f32,
    groups_x: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// Two views of each buffer, one per entry point: `main` works on one value per invocation,
// `main4` on 4 (4 channels of one position: needs channels % 4 == 0, or no affine map and a
// total that is a multiple of 4). For `main4` the host counts `total` and `channels` in vec4s.
// Four values per load matter on lavapipe/llvmpipe, where every storage load is a loop over the
// SIMD lanes.
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> shift: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;
@group(0) @binding(1) var<storage, read> input4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scale4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> shift4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output4: array<vec4<f32>>;

// Keras's ReLU layer when relu_layer is set, else the plain activation.
fn finish(x: vec4<f32>) -> vec4<f32> {
    if p.relu_layer == 0u {
        return activate4(p.activation, x);
    }
    var v = select(x, p.negative_slope * (x - p.threshold), x < vec4<f32>(p.threshold));
    if p.has_max != 0u {
        v = select(v, vec4<f32>(p.max_value), v > vec4<f32>(p.max_value));
    }
    return v;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = (wg.y * p.groups_x + wg.x) * 64u + lane;
    if idx >= p.total {
        return;
    }
    var v = input[idx];
    if p.has_affine != 0u {
        let c = idx % p.channels;
        v = v * scale[c] + shift[c];
    }
    output[idx] = finish(vec4<f32>(v)).x;
}

@compute @workgroup_size(64)
fn main4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = (wg.y * p.groups_x + wg.x) * 64u + lane;
    if idx >= p.total {
        return;
    }
    var v = input4[idx];
    if p.has_affine != 0u {
        let c = idx % p.channels;
        v = v * scale4[c] + shift4[c];
    }
    output4[idx] = finish(v);
}
