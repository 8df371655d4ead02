// Dense on the last axis: y[r, u] = activate(Σ_i x[r, i]·W[i, u] + b[u]), one output per
// invocation. W is (in_features, units), as Keras stores it.
// Uses activate from activation.wgsl.

struct Params {
    rows: u32,
    in_features: u32,
    units: u32,
    has_bias: u32,
    activation: u32,
    total: u32,
    groups_x: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = (wg.y * p.groups_x + wg.x) * 64u + lane;
    if idx >= p.total {
        return;
    }
    let r = idx / p.units;
    let u = idx % p.units;
    var acc = 0.0;
    let x_base = r * p.in_features;
    for (var i = 0u; i < p.in_features; i++) {
        acc += input[x_base + i] * kernel[i * p.units + u];
    }
    if p.has_bias != 0u {
        acc += bias[u];
    }
    output[idx] = activate(p.activation, acc);
}
