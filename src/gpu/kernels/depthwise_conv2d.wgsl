// DepthwiseConv2D: each output channel o = c·depth_multiplier + m reads input channel c only.
// Kernel (kh, kw, in_c, depth_multiplier), flat: tap (ky, kx) then output channel. `main`
// computes one output value per invocation; `main4` four consecutive channels (needs
// depth_multiplier 1 and channels, output pitch and offset multiples of 4), so every load
// feeds four multiply-adds.
// Uses Params (group_in holds the depth multiplier), flat_index, output_coords, output_index,
// input_row and input_col from window.wgsl and activate from activation.wgsl.

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;
@group(0) @binding(1) var<storage, read> input4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> kernel4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output4: array<vec4<f32>>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = flat_index(wg, lane);
    if idx >= p.total {
        return;
    }
    let o = output_coords(idx);
    let c = o.w / p.group_in;
    var acc = 0.0;
    for (var ky = 0u; ky < p.win_h; ky++) {
        let iy = input_row(o.y, ky);
        if iy >= p.in_h {
            continue;
        }
        for (var kx = 0u; kx < p.win_w; kx++) {
            let ix = input_col(o.z, kx);
            if ix >= p.in_w {
                continue;
            }
            acc += input[((o.x * p.in_h + iy) * p.in_w + ix) * p.in_c + c]
                * kernel[(ky * p.win_w + kx) * p.out_c + o.w];
        }
    }
    if p.has_bias != 0u {
        acc += bias[o.w];
    }
    output[output_index(idx / p.out_c, o.w)] = activate(p.activation, acc);
}

@compute @workgroup_size(WG_SIZE)
fn main4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = flat_index(wg, lane);
    if idx >= p.total {
        return;
    }
    // idx counts vec4s of channels.
    let c4 = p.out_c / 4u;
    let cb = idx % c4;
    var rest = idx / c4;
    let ox = rest % p.out_w;
    rest = rest / p.out_w;
    let oy = rest % p.out_h;
    let n = rest / p.out_h;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < p.win_h; ky++) {
        let iy = input_row(oy, ky);
        if iy >= p.in_h {
            continue;
        }
        for (var kx = 0u; kx < p.win_w; kx++) {
            let ix = input_col(ox, kx);
            if ix >= p.in_w {
                continue;
            }
            acc += input4[((n * p.in_h + iy) * p.in_w + ix) * c4 + cb]
                * kernel4[(ky * p.win_w + kx) * c4 + cb];
        }
    }
    if p.has_bias != 0u {
        acc += bias4[cb];
    }
    output4[output_index(idx / c4, 0u) / 4u + cb] = activate4(p.activation, acc);
}
