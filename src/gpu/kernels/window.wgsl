// Shared by every sliding-window shader (convolutions, pooling, padding and cropping): prepended
// at build time after common.wgsl, so the parameter layout and index arithmetic exist once.
//
// Layouts are Keras's: NHWC activations. Shapes arrive as uniform data, so one compiled
// pipeline serves every shape. 'same' padding is asymmetric in Keras; only the leading pad
// (pad_top/pad_left) is needed here: window cells past the end of the input fail the same
// bounds check as cells in the trailing padding. A negative leading pad is a crop.

// Mirrors `WindowParams` in window.rs (the kernel contract test checks every field).
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
    pad_top: i32,
    pad_left: i32,
    // Convolutions: whether `bias` holds real values.
    has_bias: u32,
    // Convolutions: the fused activation's code (see activation.wgsl).
    activation: u32,
    // Invocations that do work.
    total: u32,
    // Workgroups along x in this dispatch; the grid is folded into y past the per-dimension limit.
    groups_x: u32,
    // Conv2D: input channels per group (in_c when groups = 1). DepthwiseConv2D: depth multiplier.
    group_in: u32,
    // Conv2D: filters per group (out_c when groups = 1).
    group_out: u32,
    // The output is written into rows of `out_pitch` floats starting at `out_offset`: a channel
    // slice of a larger tensor (a Concatenate's output, or one block of a split Dense).
    out_pitch: u32,
    out_offset: u32,
    // Conv2D: whether `residual` holds a tensor of the output's shape (dense, `out_c` channels)
    // added before the activation (a fused Add: ResNet's shortcut).
    has_residual: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// The flat output index of this invocation.
fn flat_index(wg: vec3<u32>, lane: u32) -> u32 {
    return invocation(wg, lane, p.groups_x);
}

// (n, oy, ox, c) of a flat NHWC output index (over the logical out_c channels).
fn output_coords(idx: u32) -> vec4<u32> {
    let c = idx % p.out_c;
    var rest = idx / p.out_c;
    let ox = rest % p.out_w;
    rest = rest / p.out_w;
    return vec4<u32>(rest / p.out_h, rest % p.out_h, ox, c);
}

// Where output element (position m, channel c) lives in the output buffer.
fn output_index(m: u32, c: u32) -> u32 {
    return m * p.out_pitch + p.out_offset + c;
}

// The input row read by output row `oy` at window row `ky`; `in_h` (out of range) in the padding.
fn input_row(oy: u32, ky: u32) -> u32 {
    let padded = i32(oy * p.stride_h + ky * p.dil_h) - p.pad_top;
    if padded < 0 {
        return p.in_h;
    }
    return u32(padded);
}

// The input column read by output column `ox` at window column `kx`; `in_w` in the padding.
fn input_col(ox: u32, kx: u32) -> u32 {
    let padded = i32(ox * p.stride_w + kx * p.dil_w) - p.pad_left;
    if padded < 0 {
        return p.in_w;
    }
    return u32(padded);
}
