// Direct Conv2D: one output element per invocation.
//
// Layouts are Keras's: input NHWC, kernel HWIO (kh, kw, cin, filters), output NHWC.
// Shapes arrive as uniform data, so one compiled pipeline serves every shape.
// 'same' padding is asymmetric in Keras; only the leading pad (pad_top/pad_left) is needed here:
// window cells past the end of the input are skipped by the same bounds check.

struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    out_c: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    dil_h: u32,
    dil_w: u32,
    pad_top: u32,
    pad_left: u32,
    has_bias: u32,
    // 0 linear, 1 relu, 2 sigmoid, 3 tanh (see Activation::shader_code).
    activation: u32,
    // Number of output elements.
    total: u32,
    // Workgroups along x in this dispatch; the grid is folded into y past the per-dimension limit.
    groups_x: u32,
    _pad: u32,
}

const WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

fn activate(x: f32) -> f32 {
    switch p.activation {
        case 1u: { return max(x, 0.0); }
        case 2u: { return 1.0 / (1.0 + exp(-x)); }
        // Some drivers build tanh from exponentials, which overflow to NaN for large |x|;
        // tanh(±15) already rounds to ±1 in f32, so clamping changes no result.
        case 3u: { return tanh(clamp(x, -15.0, 15.0)); }
        default: { return x; }
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let idx = (wg.y * p.groups_x + wg.x) * WG_SIZE + lane;
    if idx >= p.total {
        return;
    }
    let co = idx % p.out_c;
    var rest = idx / p.out_c;
    let ox = rest % p.out_w;
    rest = rest / p.out_w;
    let oy = rest % p.out_h;
    let n = rest / p.out_h;

    var acc = 0.0;
    for (var ky = 0u; ky < p.k_h; ky++) {
        // Position in the padded input; rows in the top or bottom padding contribute nothing.
        let ry = oy * p.stride_h + ky * p.dil_h;
        if ry < p.pad_top || ry - p.pad_top >= p.in_h {
            continue;
        }
        let iy = ry - p.pad_top;
        for (var kx = 0u; kx < p.k_w; kx++) {
            let rx = ox * p.stride_w + kx * p.dil_w;
            if rx < p.pad_left || rx - p.pad_left >= p.in_w {
                continue;
            }
            let ix = rx - p.pad_left;
            let x_base = ((n * p.in_h + iy) * p.in_w + ix) * p.in_c;
            let w_base = (ky * p.k_w + kx) * p.in_c * p.out_c + co;
            for (var ci = 0u; ci < p.in_c; ci++) {
                acc += input[x_base + ci] * kernel[w_base + ci * p.out_c];
            }
        }
    }
    if p.has_bias != 0u {
        acc += bias[co];
    }
    output[idx] = activate(acc);
}
