// Softmax (or log-softmax) over the last axis: one invocation per row, shifted by the row's
// maximum exactly as jax.nn.softmax does (so a NaN, or an infinite maximum, makes the row NaN,
// as in Keras).

// Mirrors `SoftmaxParams` in src/gpu/kernels.rs (a test checks the size).
struct Params {
    rows: u32,
    cols: u32,
    groups_x: u32,
    // 1: log-softmax.
    log: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let r = invocation(wg, lane, p.groups_x);
    if r >= p.rows {
        return;
    }
    let base = r * p.cols;
    var m = input[base];
    for (var i = 1u; i < p.cols; i++) {
        let v = input[base + i];
        if v > m || is_nan(v) {
            m = v;
        }
        if is_nan(m) {
            break;
        }
    }
    var sum = 0.0;
    for (var i = 0u; i < p.cols; i++) {
        sum += exp(input[base + i] - m);
    }
    for (var i = 0u; i < p.cols; i++) {
        let shifted = input[base + i] - m;
        if p.log != 0u {
            output[base + i] = shifted - log(sum);
        } else {
            output[base + i] = exp(shifted) / sum;
        }
    }
}
