// Conv2DTranspose, as Keras's JAX backend computes it: the input spread out `stride` cells
// apart, padded with `pad_top`/`pad_left` cells in front, correlated with the spatially flipped
// kernel. One output element per invocation gathers the input cells that land on it:
// window tap (ky, kx) reads spread-out cell oy + (kh − 1 − ky)·dil − pad_top, a real input
// cell only where that is a multiple of the stride. Kernel (kh, kw, filters, in_c), as Keras
// stores it.
// Uses Params (win = kernel, stride, dil, pad), flat_index, output_coords and output_index from
// window.wgsl and activate from activation.wgsl.

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

// The input index along an axis for output `o` and tap `k`, or `size` where none.
fn source(o: u32, k: u32, win: u32, dil: u32, pad: i32, stride: u32, size: u32) -> u32 {
    let j = i32(o + (win - 1u - k) * dil) - pad;
    if j < 0 || u32(j) % stride != 0u {
        return size;
    }
    let i = u32(j) / stride;
    return select(size, i, i < size);
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = flat_index(wg, lane);
    if idx >= p.total {
        return;
    }
    let o = output_coords(idx);
    let f = o.w;
    var acc = 0.0;
    for (var ky = 0u; ky < p.win_h; ky++) {
        let iy = source(o.y, ky, p.win_h, p.dil_h, p.pad_top, p.stride_h, p.in_h);
        if iy >= p.in_h {
            continue;
        }
        for (var kx = 0u; kx < p.win_w; kx++) {
            let ix = source(o.z, kx, p.win_w, p.dil_w, p.pad_left, p.stride_w, p.in_w);
            if ix >= p.in_w {
                continue;
            }
            let x_base = ((o.x * p.in_h + iy) * p.in_w + ix) * p.in_c;
            let w_base = ((ky * p.win_w + kx) * p.out_c + f) * p.in_c;
            for (var c = 0u; c < p.in_c; c++) {
                acc += input[x_base + c] * kernel[w_base + c];
            }
        }
    }
    if p.has_bias != 0u {
        acc += bias[f];
    }
    output[output_index(idx / p.out_c, f)] = activate(p.activation, acc);
}
