// Shared by every sliding-window shader (conv2d, max_pool2d): prepended to each at build time
// (see SHADERS in src/gpu/mod.rs), so the parameter layout and index arithmetic exist once.
//
// Layouts are Keras's: NHWC activations. Shapes arrive as uniform data, so one compiled
// pipeline serves every shape. 'same' padding is asymmetric in Keras; only the leading pad
// (pad_top/pad_left) is needed here: window cells past the end of the input fail the same
// bounds check as cells in the trailing padding.

// Mirrors `WindowParams` in src/gpu/mod.rs, field for field.
struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    out_c: u32,
    win_h: u32,
    win_w: u32,
    stride_h: u32,
    stride_w: u32,
    dil_h: u32,
    dil_w: u32,
    pad_top: u32,
    pad_left: u32,
    // conv2d only: whether `bias` holds real values.
    has_bias: u32,
    // conv2d only: 0 linear, 1 relu, 2 sigmoid, 3 tanh (see Activation::shader_code).
    activation: u32,
    // Number of output elements.
    total: u32,
    // Workgroups along x in this dispatch; the grid is folded into y past the per-dimension limit.
    groups_x: u32,
    _pad: u32,
}

const WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;

// The flat output index of this invocation, unfolding the 2-D workgroup grid.
fn flat_index(wg: vec3<u32>, lane: u32) -> u32 {
    return (wg.y * p.groups_x + wg.x) * WG_SIZE + lane;
}

// (n, oy, ox, c) of a flat NHWC output index.
fn output_coords(idx: u32) -> vec4<u32> {
    let c = idx % p.out_c;
    var rest = idx / p.out_c;
    let ox = rest % p.out_w;
    rest = rest / p.out_w;
    return vec4<u32>(rest / p.out_h, rest % p.out_h, ox, c);
}

// The input row read by output row `oy` at window row `ky`; `in_h` (out of range) in the padding.
fn input_row(oy: u32, ky: u32) -> u32 {
    let padded = oy * p.stride_h + ky * p.dil_h;
    if padded < p.pad_top {
        return p.in_h;
    }
    return padded - p.pad_top;
}

// The input column read by output column `ox` at window column `kx`; `in_w` in the padding.
fn input_col(ox: u32, kx: u32) -> u32 {
    let padded = ox * p.stride_w + kx * p.dil_w;
    if padded < p.pad_left {
        return p.in_w;
    }
    return padded - p.pad_left;
}
