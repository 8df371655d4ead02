// MaxPooling2D: one output element per invocation. Cells in the (asymmetric, Keras 'same') padding are skipped, so they never win
// the max. NaN wins, as in Keras (XLA's max keeps NaN).
// Uses Params, flat_index, output_coords, input_row and input_col from window.wgsl.

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = flat_index(wg, lane);
    if idx >= p.total {
        return;
    }
    let o = output_coords(idx);
    let n = o.x;
    let c = o.w;
    // Every Keras window ('valid' or 'same') holds at least one real cell.
    var best = negative_infinity();
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
            let v = input[((n * p.in_h + iy) * p.in_w + ix) * p.in_c + c];
            best = max_keras(best, v);
            if is_nan(best) {
                break;
            }
        }
        if is_nan(best) {
            break;
        }
    }
    output[output_index(idx / p.out_c, c)] = best;
}
