// ZeroPadding2D and Cropping2D: each output cell copies its input cell, or is zero in the
// padding. A 1×1 window whose leading pad is (top, left); negative for a crop. input_row and
// input_col say where each output cell falls.
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
    let iy = input_row(o.y, 0u);
    let ix = input_col(o.z, 0u);
    var v = 0.0;
    if iy < p.in_h && ix < p.in_w {
        v = input[((o.x * p.in_h + iy) * p.in_w + ix) * p.in_c + o.w];
    }
    output[idx] = v;
}
