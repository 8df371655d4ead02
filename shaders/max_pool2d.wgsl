// MaxPooling2D: one output element per invocation, NHWC in and out.
// Cells in the (asymmetric, Keras 'same') padding are skipped, so they never win the max.

struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    channels: u32,
    out_h: u32,
    out_w: u32,
    pool_h: u32,
    pool_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    // Number of output elements.
    total: u32,
    // Workgroups along x in this dispatch; the grid is folded into y past the per-dimension limit.
    groups_x: u32,
    _pad0: u32,
    _pad1: u32,
}

const WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let idx = (wg.y * p.groups_x + wg.x) * WG_SIZE + lane;
    if idx >= p.total {
        return;
    }
    let c = idx % p.channels;
    var rest = idx / p.channels;
    let ox = rest % p.out_w;
    rest = rest / p.out_w;
    let oy = rest % p.out_h;
    let n = rest / p.out_h;

    // Every Keras window ('valid' or 'same') holds at least one real cell, so this is replaced.
    var best = -3.4028234663852886e38;
    var seen = false;
    for (var ky = 0u; ky < p.pool_h; ky++) {
        let ry = oy * p.stride_h + ky;
        if ry < p.pad_top || ry - p.pad_top >= p.in_h {
            continue;
        }
        let iy = ry - p.pad_top;
        for (var kx = 0u; kx < p.pool_w; kx++) {
            let rx = ox * p.stride_w + kx;
            if rx < p.pad_left || rx - p.pad_left >= p.in_w {
                continue;
            }
            let v = input[((n * p.in_h + iy) * p.in_w + rx - p.pad_left) * p.channels + c];
            if !seen || v > best {
                best = v;
                seen = true;
            }
        }
    }
    output[idx] = best;
}
