// Conv2D as an implicit GEMM with workgroup-memory tiles: each workgroup of 64 invocations
// computes a 32-position × 32-filter tile of the output; the reduction (K = kh·kw·cin) runs
// in slices of 8, each slice's patches (gathered on the fly, zeros for padding) and kernel
// rows staged in workgroup memory and shared by all 64 invocations; each invocation then
// accumulates 4 positions × 4 filters (one vec4) in registers. Needs filters % 4 == 0 and an
// output pitch and offset that are multiples of 4. The tile shape is structural: 64 invocations
// (the host passes WG_SIZE = 64) each own 4 rows × 1 vec4 of the 32 × 32 tile.
// Uses Params, input_row and input_col from window.wgsl and activate4 from activation.wgsl;
// `p.total` counts invocations: 64 per tile, ceil(rows / 32) × ceil(filters / 32) tiles.

const TM: u32 = 32u;
const TN4: u32 = 8u; // 32 filters as vec4
const TK: u32 = 8u;
// The workgroup size this tile shape is made for (TK × TN4 kernel vec4s, one per invocation):
// the host's WG_SIZE, checked by the kernel contract test.
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;

var<workgroup> patches: array<f32, 256>; // [TK][TM]
var<workgroup> weights: array<vec4<f32>, 64>; // [TK][TN4]

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

    // This invocation's share of the result: 4 positions (tr) × one vec4 of filters (tc).
    let tr = lane / TN4;
    let tc = lane % TN4;
    var acc: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
        acc[i] = vec4<f32>(0.0);
    }

    for (var k0 = 0u; k0 < k_total; k0 += TK) {
        // Stage the patch slice: 256 values, 4 per invocation, reduction index fastest so
        // that neighbouring invocations read neighbouring input channels.
        for (var j = 0u; j < TK * TM / WG; j++) {
            let e = lane + j * WG;
            let kk = e % TK;
            let r = e / TK;
            let k = k0 + kk;
            let m = row0 + r;
            var v = 0.0;
            if k < k_total && m < rows {
                let ci = k % p.in_c;
                let kx = (k / p.in_c) % p.win_w;
                let ky = k / (p.in_c * p.win_w);
                let ox = m % p.out_w;
                let oy = (m / p.out_w) % p.out_h;
                let n = m / (p.out_w * p.out_h);
                let iy = input_row(oy, ky);
                let ix = input_col(ox, kx);
                if iy < p.in_h && ix < p.in_w {
                    v = input[((n * p.in_h + iy) * p.in_w + ix) * p.in_c + ci];
                }
            }
            patches[kk * TM + r] = v;
        }
        // Stage the kernel slice: 8 rows × 8 vec4, one per invocation.
        let kk = lane / TN4;
        let k = k0 + kk;
        let nb = nb0 + lane % TN4;
        var w = vec4<f32>(0.0);
        if k < k_total && nb < col_blocks {
            w = kernel[k * col_blocks + nb];
        }
        weights[lane] = w;
        workgroupBarrier();

        for (var kk = 0u; kk < TK; kk++) {
            let b = weights[kk * TN4 + tc];
            for (var i = 0u; i < 4u; i++) {
                acc[i] += patches[kk * TM + tr * 4u + i] * b;
            }
        }
        workgroupBarrier();
    }

    let nb = nb0 + tc;
    if nb < col_blocks {
        var b = vec4<f32>(0.0);
        if p.has_bias != 0u {
            b = bias[nb];
        }
        for (var i = 0u; i < 4u; i++) {
            let m = row0 + tr * 4u + i;
            if m < rows {
                output[output_index(m, 0u) / 4u + nb] =
                    activate4(p.activation, acc[i] + b + residual_at(m, nb, col_blocks));
            }
        }
    }
}
