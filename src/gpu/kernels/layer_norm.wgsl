// LayerNormalization over the last `cols` values of each row, as Keras computes it: mean and
// (two-pass) variance of the row, inv = rsqrt(variance + epsilon)·gamma,
// y = x·inv + (beta − mean·inv). `main`: one invocation per row, for many short rows; `rows`: a
// workgroup per row (row_reduce.wgsl, or row_reduce_subgroup.wgsl in the subgroup kernel), for
// long rows (a transformer's 768 features).

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
        output[base + i] = normalized(input[base + i], i, mean, rstd);
    }
}

// Value `x` of column `i` normalised with its row's mean and 1/σ.
fn normalized(x: f32, i: u32, mean: f32, rstd: f32) -> f32 {
    var inv = rstd;
    if p.has_gamma != 0u {
        inv = inv * gamma[i];
    }
    if p.rms != 0u {
        return x * inv;
    }
    var res = -mean * inv;
    if p.has_beta != 0u {
        res = res + beta[i];
    }
    return x * inv + res;
}

@compute @workgroup_size(ROW_LANES)
fn rows(@builtin(workgroup_id) wg: vec3<u32>, at: RowLane) {
    let lane = at.index;
    let r = row_of(wg, p.groups_x);
    if r >= p.rows {
        return;
    }
    let base = r * p.cols;
    let n = f32(p.cols);
    var partial = 0.0;
    for (var i = lane; i < p.cols; i += ROW_LANES) {
        partial += input[base + i];
    }
    let mean = row_sum(at, partial) / n;
    var sq = 0.0;
    for (var i = lane; i < p.cols; i += ROW_LANES) {
        let d = input[base + i] - mean;
        sq += d * d;
    }
    let rstd = inverseSqrt(row_sum(at, sq) / n + p.epsilon);
    for (var i = lane; i < p.cols; i += ROW_LANES) {
        output[base + i] = normalized(input[base + i], i, mean, rstd);
    }
}
