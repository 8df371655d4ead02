// Softmax (or log-softmax) along one axis, shifted by the row's maximum exactly as
// jax.nn.softmax does (so a NaN, or an infinite maximum, makes the row NaN, as in Keras); a
// row's values are `inner` apart (1 for the last axis). `main`: one invocation per row, for many
// short rows; `rows`: a workgroup per row (row_reduce.wgsl, or row_reduce_subgroup.wgsl in
// the subgroup kernel), for long rows (a classifier's 1,000 classes), where one invocation
// walking the row three times would leave a GPU idle.

// Mirrors `SoftmaxParams` in softmax.rs (the kernel contract test checks every field).
struct Params {
    rows: u32,
    cols: u32,
    groups_x: u32,
    // 1: log-softmax.
    log: u32,
    // Distance between a row's values: the product of the axes after the softmax axis.
    inner: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
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
    let base = (r / p.inner) * p.cols * p.inner + r % p.inner;
    let step = p.inner;
    var m = input[base];
    for (var i = 1u; i < p.cols; i++) {
        let v = input[base + i * step];
        if v > m || is_nan(v) {
            m = v;
        }
        if is_nan(m) {
            break;
        }
    }
    var sum = 0.0;
    for (var i = 0u; i < p.cols; i++) {
        sum += exp(input[base + i * step] - m);
    }
    for (var i = 0u; i < p.cols; i++) {
        let shifted = input[base + i * step] - m;
        if p.log != 0u {
            output[base + i * step] = shifted - log(sum);
        } else {
            output[base + i * step] = exp(shifted) / sum;
        }
    }
}

@compute @workgroup_size(ROW_LANES)
fn rows(@builtin(workgroup_id) wg: vec3<u32>, at: RowLane) {
    let lane = at.index;
    let r = row_of(wg, p.groups_x);
    if r >= p.rows {
        return;
    }
    let base = (r / p.inner) * p.cols * p.inner + r % p.inner;
    let step = p.inner;
    var m = negative_infinity();
    for (var i = lane; i < p.cols; i += ROW_LANES) {
        m = max_keras(m, input[base + i * step]);
    }
    m = row_max(at, m);
    var partial = 0.0;
    for (var i = lane; i < p.cols; i += ROW_LANES) {
        partial += exp(input[base + i * step] - m);
    }
    let sum = row_sum(at, partial);
    for (var i = lane; i < p.cols; i += ROW_LANES) {
        let shifted = input[base + i * step] - m;
        if p.log != 0u {
            output[base + i * step] = shifted - log(sum);
        } else {
            output[base + i * step] = exp(shifted) / sum;
        }
    }
}
