// Conv2D as an implicit GEMM with large workgroup tiles, the shape fast GPU GEMMs use: each
// workgroup of 64 invocations computes a 64-position × 64-filter tile of the output, and each
// invocation 8 positions × 8 filters (two vec4s) in registers, so every value staged in
// workgroup memory is used by 8 invocations and every staged load feeds 8 multiply-adds. The
// reduction (K = kh·kw·cin) runs in slices of 8: the patch slice (gathered on the fly, zeros
// for padding, reduction index fastest so neighbouring invocations read neighbouring input
// channels) and the kernel slice are staged in workgroup memory. The next slice is loaded into
// registers while the current one is multiplied, so global-memory latency overlaps the
// arithmetic (double buffering through registers; a second workgroup buffer would double the
// memory). Needs filters % 4 == 0 and an output pitch and offset that are multiples of 4. The
// tile shape is structural: 64 invocations (the host passes WG_SIZE = 64).
// Uses Params, input_row and input_col from window.wgsl and activate4 from activation.wgsl;
// `p.total` counts invocations: 64 per tile, ceil(rows / 64) × ceil(filters / 64) tiles.

const TM: u32 = 64u;
const TN4: u32 = 16u; // 64 filters as vec4
const TK: u32 = 8u;
// The workgroup size this tile shape is made for: the host's WG_SIZE, checked by the kernel
// contract test.
const WG: u32 = 64u;
// Per invocation: rows `tr + 8·i` and vec4 columns `tc + 8·j` of the tile (interleaved, so
// that neighbouring invocations read neighbouring workgroup-memory words).
const RM: u32 = 8u;
const RN4: u32 = 2u;
// Staged per invocation per slice: TK·TM / WG patch values and TK·TN4 / WG kernel vec4s.
const SP: u32 = 8u;
const SW: u32 = 2u;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;

var<workgroup> patches: array<f32, 512>; // [TK][TM]
var<workgroup> weights: array<vec4<f32>, 128>; // [TK][TN4]

// Patch value `e` of the slice starting at reduction index k0 (0 outside the input).
fn patch_value(e: u32, k0: u32, row0: u32, rows: u32, k_total: u32) -> f32 {
    let k = k0 + e % TK;
    let m = row0 + e / TK;
    if k >= k_total || m >= rows {
        return 0.0;
    }
    let ci = k % p.in_c;
    let kx = (k / p.in_c) % p.win_w;
    let ky = k / (p.in_c * p.win_w);
    let ox = m % p.out_w;
    let oy = (m / p.out_w) % p.out_h;
    let n = m / (p.out_w * p.out_h);
    let iy = input_row(oy, ky);
    let ix = input_col(ox, kx);
    if iy >= p.in_h || ix >= p.in_w {
        return 0.0;
    }
    return input[((n * p.in_h + iy) * p.in_w + ix) * p.in_c + ci];
}

// Kernel vec4 `e` of the slice starting at k0 (0 past the end).
fn weight_value(e: u32, k0: u32, nb0: u32, col_blocks: u32, k_total: u32) -> vec4<f32> {
    let k = k0 + e / TN4;
    let nb = nb0 + e % TN4;
    if k >= k_total || nb >= col_blocks {
        return vec4<f32>(0.0);
    }
    return kernel[k * col_blocks + nb];
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    // Workgroup-uniform, so the barriers below stay in uniform control flow.
    let tile = wg.y * p.groups_x + wg.x;
    if tile >= p.total / WG_SIZE {
        return;
    }
    let col_blocks = p.out_c / 4u;
    let tiles_n = (col_blocks + TN4 - 1u) / TN4;
    let row0 = (tile / tiles_n) * TM;
    let nb0 = (tile % tiles_n) * TN4;
    let rows = p.batch * p.out_h * p.out_w;
    let k_total = p.win_h * p.win_w * p.in_c;

    let tr = lane / 8u;
    let tc = lane % 8u;
    var acc: array<vec4<f32>, 16>; // [RM][RN4]
    for (var i = 0u; i < RM * RN4; i++) {
        acc[i] = vec4<f32>(0.0);
    }

    // The first slice, in registers.
    var next_p: array<f32, 8>;
    var next_w: array<vec4<f32>, 2>;
    for (var j = 0u; j < SP; j++) {
        next_p[j] = patch_value(lane + j * WG, 0u, row0, rows, k_total);
    }
    for (var j = 0u; j < SW; j++) {
        next_w[j] = weight_value(lane + j * WG, 0u, nb0, col_blocks, k_total);
    }

    for (var k0 = 0u; k0 < k_total; k0 += TK) {
        for (var j = 0u; j < SP; j++) {
            let e = lane + j * WG;
            patches[(e % TK) * TM + e / TK] = next_p[j];
        }
        for (var j = 0u; j < SW; j++) {
            weights[lane + j * WG] = next_w[j];
        }
        workgroupBarrier();

        // Start loading the next slice; the multiply-adds below hide its latency.
        let k1 = k0 + TK;
        if k1 < k_total {
            for (var j = 0u; j < SP; j++) {
                next_p[j] = patch_value(lane + j * WG, k1, row0, rows, k_total);
            }
            for (var j = 0u; j < SW; j++) {
                next_w[j] = weight_value(lane + j * WG, k1, nb0, col_blocks, k_total);
            }
        }

        for (var kk = 0u; kk < TK; kk++) {
            let b0 = weights[kk * TN4 + tc];
            let b1 = weights[kk * TN4 + tc + 8u];
            for (var i = 0u; i < RM; i++) {
                let a = patches[kk * TM + tr + 8u * i];
                acc[i * RN4] += a * b0;
                acc[i * RN4 + 1u] += a * b1;
            }
        }
        workgroupBarrier();
    }

    for (var j = 0u; j < RN4; j++) {
        let nb = nb0 + tc + 8u * j;
        if nb < col_blocks {
            var b = vec4<f32>(0.0);
            if p.has_bias != 0u {
                b = bias[nb];
            }
            for (var i = 0u; i < RM; i++) {
                let m = row0 + tr + 8u * i;
                if m < rows {
                    output[output_index(m, 0u) / 4u + nb] = activate4(
                        p.activation,
                        acc[i * RN4 + j] + b + residual_at(m, nb, col_blocks),
                    );
                }
            }
        }
    }
}
