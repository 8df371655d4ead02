// Dense with a long reduction and few rows (a classifier head on a batch of one or two, the
// 160,256-input Dense of seed 003's VQA model): the reduction is split into `slices`, each
// invocation sums one slice for one (row, unit) into `partial`, then `reduce` adds the slices,
// the bias and the activation. Many short sums instead of a few very long ones: enough
// invocations to fill a GPU, and float32 error that grows with the slice length, not with the
// whole reduction.
// Kernel (k, units) row-major, as Keras stores it. Uses activate from activation.wgsl.

// Mirrors `SplitKParams` in dense_splitk.rs (the kernel contract test checks every field).
struct Params {
    // Rows of the whole chunk (batch · rows per example).
    rows: u32,
    k: u32,
    units: u32,
    slices: u32,
    slice_len: u32,
    groups_x: u32,
    total: u32,
    has_bias: u32,
    activation: u32,
    // `reduce` writes row r's units at r·out_pitch + out_offset (a block of a wider Dense).
    out_pitch: u32,
    out_offset: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@group(0) @binding(1) var<storage, read> partial_in: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

// One slice of one (row, unit): total = rows · slices · units.
@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let u = idx % p.units;
    let rest = idx / p.units;
    let s = rest % p.slices;
    let r = rest / p.slices;
    let k0 = s * p.slice_len;
    let k1 = min(k0 + p.slice_len, p.k);
    var acc = 0.0;
    for (var k = k0; k < k1; k++) {
        acc += input[r * p.k + k] * kernel[k * p.units + u];
    }
    partial[idx] = acc;
}

// Sum the slices of one (row, unit): total = rows · units.
@compute @workgroup_size(WG_SIZE)
fn reduce(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let u = idx % p.units;
    let r = idx / p.units;
    var acc = 0.0;
    for (var s = 0u; s < p.slices; s++) {
        acc += partial_in[(r * p.slices + s) * p.units + u];
    }
    if p.has_bias != 0u {
        acc += bias[u];
    }
    output[r * p.out_pitch + p.out_offset + u] = activate(p.activation, acc);
}
