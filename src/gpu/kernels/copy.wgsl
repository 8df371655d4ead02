// Copies rows of one tensor into rows of another: row r of the input (`in_row` floats) goes to
// the floats [offset, offset + in_row) of row r of the output (`out_row` floats). Concatenate
// copies each input into its slice of the output this way (inputs its producers could not
// write in place).

// Mirrors `CopyParams` in copy.rs (the kernel contract test checks every field).
struct Params {
    total: u32,
    in_row: u32,
    out_row: u32,
    offset: u32,
    groups_x: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let row = idx / p.in_row;
    output[row * p.out_row + p.offset + idx % p.in_row] = input[idx];
}
