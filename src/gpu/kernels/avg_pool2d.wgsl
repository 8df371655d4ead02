// AveragePooling2D: one output element per invocation. As in Keras, 'same' averages over the
// real cells of each window only; padded cells count neither in the sum nor in the divisor.
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
    var sum = 0.0;
    var count = 0u;
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
            sum += input[((o.x * p.in_h + iy) * p.in_w + ix) * p.in_c + o.w];
            count += 1u;
        }
    }
    // Every Keras window holds at least one real cell.
    output[output_index(idx / p.out_c, o.w)] = sum / f32(max(count, 1u));
}
