// Conv2D as an implicit GEMM with wide register blocks, for adapters on which every buffer
// load is expensive: lavapipe and llvmpipe run 8 invocations as one SIMD program and turn each
// storage-buffer load into a loop over those 8 lanes, so there loads, not multiply-adds, set
// the speed. Each invocation here computes RM = 8 consecutive output positions × FN = 16
// filters (FN4 = 4 vec4s) in registers: every input load feeds 16 filters and every kernel
// vec4 feeds 8 positions. On lavapipe this runs the README's 3×3 workloads about 3× as fast
// as the 4 × 4 block of conv2d_blocked.wgsl. The accumulators are written out per position
// (acc0 .. acc7, each a mat4x4 whose columns are the 4 filter vec4s) rather than as a loop
// over an array: written as loops, the reduction ran 4× slower on lavapipe (the array stayed
// in memory).
//
// Any filter count: the host pads the kernel's (and bias's) filter axis with zeros to a multiple
// of 4, so kernel rows are whole vec4s; outputs past the real filters are not stored. Four entry
// points, by how the input is read (4 channels per load when in_c % 4 == 0, else one) and the
// output written (vec4s when filters, output pitch and offset are multiples of 4, else one float
// at a time):
//   main: in4/out4   main_in1: in1/out4   main_out1: in4/out1   main_in1_out1: in1/out1
// Patches are gathered on the fly (no im2col buffer); padding cells read as zero. Uses Params,
// flat_index, input_row and input_col from window.wgsl and activate4 from activation.wgsl;
// `p.total` counts invocations: ceil(rows / 8) × ceil(filters / 16).

const RM: u32 = 8u;
const FN4: u32 = 4u;

// Each entry point uses one view of the input and one of the output buffer.
@group(0) @binding(1) var<storage, read> input4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> input1: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output1: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;

// Filter vec4s per kernel row (the padded filter count / 4).
fn col_blocks() -> u32 {
    return (p.out_c + 3u) / 4u;
}

// The block of outputs an invocation owns: rows first_row.. (+RM) and filter vec4s nb.. (+FN4).
struct Block {
    first_row: u32,
    nb: u32,
    // Kernel column of each of the FN4 filter vec4s, clamped to the last one.
    cols: array<u32, 4>,
    // Image row offset (n · in_h), oy and ox of each of the RM output positions.
    img: array<u32, 8>,
    oy: array<u32, 8>,
    ox: array<u32, 8>,
}

fn block(id: u32) -> Block {
    var b: Block;
    let col_blocks = col_blocks();
    let groups = (col_blocks + FN4 - 1u) / FN4;
    // Neighbouring invocations take neighbouring filter blocks of the same positions.
    b.nb = (id % groups) * FN4;
    b.first_row = (id / groups) * RM;
    for (var j = 0u; j < FN4; j++) {
        b.cols[j] = min(b.nb + j, col_blocks - 1u);
    }
    let rows = p.batch * p.out_h * p.out_w;
    for (var i = 0u; i < RM; i++) {
        let m = min(b.first_row + i, rows - 1u);
        b.ox[i] = m % p.out_w;
        b.oy[i] = (m / p.out_w) % p.out_h;
        b.img[i] = (m / (p.out_w * p.out_h)) * p.in_h;
    }
    return b;
}

// The input offset (in floats) of each position's cell under window tap (ky, kx), and whether
// that cell is inside the input (outside: padding, read as zero).
struct Tap {
    base: array<u32, 8>,
    inside: array<bool, 8>,
}

fn tap(b: Block, ky: u32, kx: u32) -> Tap {
    var t: Tap;
    for (var i = 0u; i < RM; i++) {
        let iy = input_row(b.oy[i], ky);
        let ix = input_col(b.ox[i], kx);
        t.inside[i] = iy < p.in_h && ix < p.in_w;
        t.base[i] = select(0u, ((b.img[i] + iy) * p.in_w + ix) * p.in_c, t.inside[i]);
    }
    return t;
}

// The 16 filters of kernel row `row` (one input channel under one tap) as the columns of a
// matrix: `acc += k * x` adds input value x's contribution to all 16.
fn kernel_row(b: Block, row: u32) -> mat4x4<f32> {
    let r = row * col_blocks();
    return mat4x4<f32>(
        kernel[r + b.cols[0]],
        kernel[r + b.cols[1]],
        kernel[r + b.cols[2]],
        kernel[r + b.cols[3]],
    );
}

// The block's sums: rows[i] holds position first_row + i, its columns the FN4 filter vec4s.
struct Sums {
    rows: array<mat4x4<f32>, 8>,
}

// The reduction, loading 4 input channels at a time (in_c % 4 == 0).
fn accumulate_in4(b: Block) -> Sums {
    var acc0 = mat4x4<f32>();
    var acc1 = mat4x4<f32>();
    var acc2 = mat4x4<f32>();
    var acc3 = mat4x4<f32>();
    var acc4 = mat4x4<f32>();
    var acc5 = mat4x4<f32>();
    var acc6 = mat4x4<f32>();
    var acc7 = mat4x4<f32>();
    for (var ky = 0u; ky < p.win_h; ky++) {
        for (var kx = 0u; kx < p.win_w; kx++) {
            let t = tap(b, ky, kx);
            let row0 = (ky * p.win_w + kx) * p.in_c;
            for (var c = 0u; c < p.in_c; c += 4u) {
                // 4 channels of each position (zeros in the padding) ...
                let x0 = select(vec4<f32>(0.0), input4[(t.base[0] + c) / 4u], t.inside[0]);
                let x1 = select(vec4<f32>(0.0), input4[(t.base[1] + c) / 4u], t.inside[1]);
                let x2 = select(vec4<f32>(0.0), input4[(t.base[2] + c) / 4u], t.inside[2]);
                let x3 = select(vec4<f32>(0.0), input4[(t.base[3] + c) / 4u], t.inside[3]);
                let x4 = select(vec4<f32>(0.0), input4[(t.base[4] + c) / 4u], t.inside[4]);
                let x5 = select(vec4<f32>(0.0), input4[(t.base[5] + c) / 4u], t.inside[5]);
                let x6 = select(vec4<f32>(0.0), input4[(t.base[6] + c) / 4u], t.inside[6]);
                let x7 = select(vec4<f32>(0.0), input4[(t.base[7] + c) / 4u], t.inside[7]);
                // ... times the 16 filters of those 4 channels.
                let k0 = kernel_row(b, row0 + c);
                let k1 = kernel_row(b, row0 + c + 1u);
                let k2 = kernel_row(b, row0 + c + 2u);
                let k3 = kernel_row(b, row0 + c + 3u);
                acc0 += k0 * x0.x + k1 * x0.y + k2 * x0.z + k3 * x0.w;
                acc1 += k0 * x1.x + k1 * x1.y + k2 * x1.z + k3 * x1.w;
                acc2 += k0 * x2.x + k1 * x2.y + k2 * x2.z + k3 * x2.w;
                acc3 += k0 * x3.x + k1 * x3.y + k2 * x3.z + k3 * x3.w;
                acc4 += k0 * x4.x + k1 * x4.y + k2 * x4.z + k3 * x4.w;
                acc5 += k0 * x5.x + k1 * x5.y + k2 * x5.z + k3 * x5.w;
                acc6 += k0 * x6.x + k1 * x6.y + k2 * x6.z + k3 * x6.w;
                acc7 += k0 * x7.x + k1 * x7.y + k2 * x7.z + k3 * x7.w;
            }
        }
    }
    return Sums(array(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7));
}

// The reduction, loading one input channel at a time.
fn accumulate_in1(b: Block) -> Sums {
    var acc0 = mat4x4<f32>();
    var acc1 = mat4x4<f32>();
    var acc2 = mat4x4<f32>();
    var acc3 = mat4x4<f32>();
    var acc4 = mat4x4<f32>();
    var acc5 = mat4x4<f32>();
    var acc6 = mat4x4<f32>();
    var acc7 = mat4x4<f32>();
    for (var ky = 0u; ky < p.win_h; ky++) {
        for (var kx = 0u; kx < p.win_w; kx++) {
            let t = tap(b, ky, kx);
            let row0 = (ky * p.win_w + kx) * p.in_c;
            for (var c = 0u; c < p.in_c; c++) {
                let k = kernel_row(b, row0 + c);
                acc0 += k * select(0.0, input1[t.base[0] + c], t.inside[0]);
                acc1 += k * select(0.0, input1[t.base[1] + c], t.inside[1]);
                acc2 += k * select(0.0, input1[t.base[2] + c], t.inside[2]);
                acc3 += k * select(0.0, input1[t.base[3] + c], t.inside[3]);
                acc4 += k * select(0.0, input1[t.base[4] + c], t.inside[4]);
                acc5 += k * select(0.0, input1[t.base[5] + c], t.inside[5]);
                acc6 += k * select(0.0, input1[t.base[6] + c], t.inside[6]);
                acc7 += k * select(0.0, input1[t.base[7] + c], t.inside[7]);
            }
        }
    }
    return Sums(array(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7));
}

// Filter vec4s of position first_row + i (the columns of `acc`) with bias and activation
// applied, stored where the position and filters exist: as vec4s (filters % 4 == 0) ...
fn store_row_out4(b: Block, i: u32, acc: mat4x4<f32>) {
    let m = b.first_row + i;
    if m >= p.batch * p.out_h * p.out_w {
        return;
    }
    let col_blocks = col_blocks();
    for (var j = 0u; j < FN4; j++) {
        if b.nb + j < col_blocks {
            output4[output_index(m, 0u) / 4u + b.nb + j] = finish(b, m, j, acc[j]);
        }
    }
}

// ... or one float at a time (any filter count).
fn store_row_out1(b: Block, i: u32, acc: mat4x4<f32>) {
    let m = b.first_row + i;
    if m >= p.batch * p.out_h * p.out_w {
        return;
    }
    for (var j = 0u; j < FN4; j++) {
        let v = finish(b, m, j, acc[j]);
        for (var e = 0u; e < 4u; e++) {
            let f = (b.nb + j) * 4u + e;
            if f < p.out_c {
                output1[output_index(m, f)] = v[e];
            }
        }
    }
}

// Bias, the fused residual and activation on filter vec4 j of the block at position m.
fn finish(b: Block, m: u32, j: u32, sum: vec4<f32>) -> vec4<f32> {
    var bv = vec4<f32>(0.0);
    if p.has_bias != 0u {
        bv = bias[b.cols[j]];
    }
    var rv = vec4<f32>(0.0);
    if p.has_residual != 0u {
        // Dense, `out_c` channels a row; filters past out_c (the padded vec4) are not stored.
        for (var e = 0u; e < 4u; e++) {
            let f = (b.nb + j) * 4u + e;
            if f < p.out_c {
                rv[e] = residual[m * p.out_c + f];
            }
        }
    }
    return activate4(p.activation, sum + bv + rv);
}

// The rows are stored one call each, with constant indices: indexing `s.rows` in a loop would
// keep the sums in memory on lavapipe.
fn store_out4(b: Block, s: Sums) {
    store_row_out4(b, 0u, s.rows[0]);
    store_row_out4(b, 1u, s.rows[1]);
    store_row_out4(b, 2u, s.rows[2]);
    store_row_out4(b, 3u, s.rows[3]);
    store_row_out4(b, 4u, s.rows[4]);
    store_row_out4(b, 5u, s.rows[5]);
    store_row_out4(b, 6u, s.rows[6]);
    store_row_out4(b, 7u, s.rows[7]);
}

fn store_out1(b: Block, s: Sums) {
    store_row_out1(b, 0u, s.rows[0]);
    store_row_out1(b, 1u, s.rows[1]);
    store_row_out1(b, 2u, s.rows[2]);
    store_row_out1(b, 3u, s.rows[3]);
    store_row_out1(b, 4u, s.rows[4]);
    store_row_out1(b, 5u, s.rows[5]);
    store_row_out1(b, 6u, s.rows[6]);
    store_row_out1(b, 7u, s.rows[7]);
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let id = flat_index(wg, lane);
    if id < p.total {
        let b = block(id);
        store_out4(b, accumulate_in4(b));
    }
}

@compute @workgroup_size(WG_SIZE)
fn main_in1(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let id = flat_index(wg, lane);
    if id < p.total {
        let b = block(id);
        store_out4(b, accumulate_in1(b));
    }
}

@compute @workgroup_size(WG_SIZE)
fn main_out1(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let id = flat_index(wg, lane);
    if id < p.total {
        let b = block(id);
        store_out1(b, accumulate_in4(b));
    }
}

@compute @workgroup_size(WG_SIZE)
fn main_in1_out1(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let id = flat_index(wg, lane);
    if id < p.total {
        let b = block(id);
        store_out1(b, accumulate_in1(b));
    }
}
