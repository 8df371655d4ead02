// Softmax over the last axis: one invocation per row, shifted by the row maximum.

struct Params {
    rows: u32,
    cols: u32,
    groups_x: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let r = (wg.y * p.groups_x + wg.x) * 64u + lane;
    if r >= p.rows {
        return;
    }
    let base = r * p.cols;
    var m = input[base];
    for (var i = 1u; i < p.cols; i++) {
        m = max(m, input[base + i]);
    }
    var sum = 0.0;
    for (var i = 0u; i < p.cols; i++) {
        let e = exp(input[base + i] - m);
        output[base + i] = e;
        sum += e;
    }
    for (var i = 0u; i < p.cols; i++) {
        output[base + i] = output[base + i] / sum;
    }
}
