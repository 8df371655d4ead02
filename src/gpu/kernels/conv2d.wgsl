// Direct Conv2D: one output element per invocation. Kernel HWIO (kh, kw, cin / groups, filters).
// The only variant with grouped convolution (Keras `groups`): output channel co belongs to group
// co / group_out and reads that group's group_in input channels.
// Uses Params, flat_index, output_coords, output_index, input_row and input_col from
// window.wgsl and activate from activation.wgsl.

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = flat_index(wg, lane);
    if idx >= p.total {
        return;
    }
    let o = output_coords(idx);
    let n = o.x;
    let co = o.w;
    let c0 = (co / p.group_out) * p.group_in;
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
            let x_base = ((n * p.in_h + iy) * p.in_w + ix) * p.in_c + c0;
            let w_base = (ky * p.win_w + kx) * p.group_in * p.out_c + co;
            for (var ci = 0u; ci < p.group_in; ci++) {
                acc += input[x_base + ci] * kernel[w_base + ci * p.out_c];
            }
        }
    }
    if p.has_bias != 0u {
        acc += bias[co];
    }
    if p.has_residual != 0u {
        acc += residual[idx];
    }
    output[output_index(idx / p.out_c, co)] = activate(p.activation, acc);
}
