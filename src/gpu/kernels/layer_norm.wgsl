// LayerNormalization over the last `cols` values of each row, as Keras computes it: mean and
// (two-pass) variance of the row, inv = rsqrt(variance + epsilon)·gamma,
// y = x·inv + (beta − mean·inv). One invocation per row.

// Mirrors `LayerNormParams` in layer_norm.rs (the kernel contract test checks every field).
struct Params {
    rows: u32,
    cols: u32,
    groups_x: u32,
    epsilon: f32,
    has_gamma: u32,
    has_beta: u32,
    // 1: Keras's deprecated rms_scaling (x·rsqrt(variance + epsilon)·gamma).
    rms: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let r = invocation(wg, lane, p.groups_x);
    if r >= p.rows {
        return;
    }
    let base = r * p.cols;
    let n = f32(p.cols);
    var sum = 0.0;
    for (var i = 0u; i < p.cols; i++) {
        sum += input[base + i];
    }
    let mean = sum / n;
    var sq = 0.0;
    for (var i = 0u; i < p.cols; i++) {
        let d = input[base + i] - mean;
        sq += d * d;
    }
    let rstd = inverseSqrt(sq / n + p.epsilon);
    for (var i = 0u; i < p.cols; i++) {
        var inv = rstd;
        if p.has_gamma != 0u {
            inv = inv * gamma[i];
        }
        var y: f32;
        if p.rms != 0u {
            y = input[base + i] * inv;
        } else {
            var res = -mean * inv;
            if p.has_beta != 0u {
                res = res + beta[i];
            }
            y = input[base + i] * inv + res;
        }
        output[base + i] = y;
    }
}
