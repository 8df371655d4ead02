// Conv2D as an implicit GEMM with register blocking: each invocation computes RM = 4
// consecutive output positions × 4 filters (one vec4), so every input value it loads feeds 4
// multiply-adds and every kernel vec4 feeds 4. A smaller block than conv2d_wide.wgsl's 8 × 16:
// it shares the work out over 8× as many invocations, which wins when there are few output
// positions (a Dense layer on a batch of one or two). Patches are gathered on the fly (no im2col
// buffer); padding cells are skipped. Needs filters % 4 == 0 (vec4 kernel, bias and output), and
// an output pitch and offset that are multiples of 4.
// Uses Params, input_row and input_col from window.wgsl and activate4 from activation.wgsl;
// `p.total` counts invocations: ceil(rows / 4) × filters / 4.

const RM: u32 = 4u;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let id = flat_index(wg, lane);
    if id >= p.total {
        return;
    }
    let col_blocks = p.out_c / 4u;
    // Neighbouring invocations take neighbouring filter blocks of the same rows: their kernel
    // loads are contiguous and their input loads identical.
    let nb = id % col_blocks;
    let first_row = (id / col_blocks) * RM;
    let rows = p.batch * p.out_h * p.out_w;

    // Where each of the RM output rows sits: image base offset and output (oy, ox).
    var img: array<u32, 4>;
    var oy: array<u32, 4>;
    var ox: array<u32, 4>;
    for (var i = 0u; i < RM; i++) {
        let m = min(first_row + i, rows - 1u);
        ox[i] = m % p.out_w;
        oy[i] = (m / p.out_w) % p.out_h;
        img[i] = (m / (p.out_w * p.out_h)) * p.in_h;
    }

    var acc: array<vec4<f32>, 4>;
    for (var i = 0u; i < RM; i++) {
        acc[i] = vec4<f32>(0.0);
    }
    for (var ky = 0u; ky < p.win_h; ky++) {
        for (var kx = 0u; kx < p.win_w; kx++) {
            // Input offset of each row's cell under (ky, kx), or a flag for padding.
            var base: array<u32, 4>;
            var inside: array<bool, 4>;
            for (var i = 0u; i < RM; i++) {
                let iy = input_row(oy[i], ky);
                let ix = input_col(ox[i], kx);
                inside[i] = iy < p.in_h && ix < p.in_w;
                base[i] = select(0u, ((img[i] + iy) * p.in_w + ix) * p.in_c, inside[i]);
            }
            var w_index = (ky * p.win_w + kx) * p.in_c * col_blocks + nb;
            for (var ci = 0u; ci < p.in_c; ci++) {
                let w = kernel[w_index];
                w_index += col_blocks;
                for (var i = 0u; i < RM; i++) {
                    let v = select(0.0, input[base[i] + ci], inside[i]);
                    acc[i] += v * w;
                }
            }
        }
    }
    var b = vec4<f32>(0.0);
    if p.has_bias != 0u {
        b = bias[nb];
    }
    for (var i = 0u; i < RM; i++) {
        let m = first_row + i;
        if m < rows {
            output[output_index(m, 0u) / 4u + nb] =
                activate4(p.activation, acc[i] + b + residual_at(m, nb, col_blocks));
        }
    }
}
