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
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> shift: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

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
    if p.relu_layer != 0u {
        if v < p.threshold {
            v = p.negative_slope * (v - p.threshold);
        }
        if p.has_max != 0u && v > p.max_value {
            v = p.max_value;
        }
    } else {
        v = activate(p.activation, v);
    }
    output[idx] = v;
}
