// UpSampling2D: nearest (repeat each cell) or bilinear (half-pixel centres, as
// jax.image.resize; at the borders the missing neighbour's weight goes to the edge cell, which
// is what JAX's renormalized weights amount to when upsampling). One output value per
// invocation.

// Mirrors `ResizeParams` in resize2d.rs (the kernel contract test checks every field).
struct Params {
    total: u32,
    in_h: u32,
    in_w: u32,
    channels: u32,
    out_h: u32,
    out_w: u32,
    // 0 nearest, 1 bilinear.
    bilinear: u32,
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

fn at(n: u32, y: u32, x: u32, c: u32) -> f32 {
    return input[((n * p.in_h + y) * p.in_w + x) * p.channels + c];
}

// The two source cells and the second one's weight for output cell `o` along an axis.
fn taps(o: u32, size_in: u32, size_out: u32) -> vec3<f32> {
    let src = (f32(o) + 0.5) * f32(size_in) / f32(size_out) - 0.5;
    let lo = floor(src);
    let w = src - lo;
    let i0 = clamp(i32(lo), 0, i32(size_in) - 1);
    let i1 = clamp(i32(lo) + 1, 0, i32(size_in) - 1);
    return vec3<f32>(f32(i0), f32(i1), w);
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let c = idx % p.channels;
    var rest = idx / p.channels;
    let ox = rest % p.out_w;
    rest = rest / p.out_w;
    let oy = rest % p.out_h;
    let n = rest / p.out_h;
    if p.bilinear == 0u {
        output[idx] = at(n, oy * p.in_h / p.out_h, ox * p.in_w / p.out_w, c);
        return;
    }
    let ty = taps(oy, p.in_h, p.out_h);
    let tx = taps(ox, p.in_w, p.out_w);
    let y0 = u32(ty.x);
    let y1 = u32(ty.y);
    let x0 = u32(tx.x);
    let x1 = u32(tx.y);
    let top = at(n, y0, x0, c) * (1.0 - tx.z) + at(n, y0, x1, c) * tx.z;
    let bottom = at(n, y1, x0, c) * (1.0 - tx.z) + at(n, y1, x1, c) * tx.z;
    output[idx] = top * (1.0 - ty.z) + bottom * ty.z;
}
