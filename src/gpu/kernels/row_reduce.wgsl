// A workgroup of ROW_LANES invocations reducing one row together (softmax.wgsl's and
// layer_norm.wgsl's `rows` entry points): each lane passes its partial, every lane gets the
// row's total from a tree in workgroup memory. Every lane of the workgroup must call these the
// same number of times, from uniform control flow (the barriers require it; Tint checks it).
// Uses max_keras from common.wgsl. row_reduce_subgroup.wgsl has the same functions built on
// subgroup operations, for adapters that have them.

// Lanes per row: the workgroup size of the `rows` entry points (the host checks it against
// WORKGROUP_SIZE, which sizes their grids).
const ROW_LANES: u32 = 64u;

// What a lane knows about its place in the workgroup: the `rows` entry points take it as an
// argument and pass it on.
struct RowLane {
    @builtin(local_invocation_index) index: u32,
}

var<workgroup> row_scratch: array<f32, ROW_LANES>;

fn row_sum(at: RowLane, partial: f32) -> f32 {
    let lane = at.index;
    row_scratch[lane] = partial;
    workgroupBarrier();
    for (var half = ROW_LANES / 2u; half > 0u; half = half / 2u) {
        if lane < half {
            row_scratch[lane] = row_scratch[lane] + row_scratch[lane + half];
        }
        workgroupBarrier();
    }
    let total = row_scratch[0];
    // Every lane has read the total before the next reduction overwrites it.
    workgroupBarrier();
    return total;
}

// XLA's maximum of the row: a NaN anywhere makes it NaN.
fn row_max(at: RowLane, partial: f32) -> f32 {
    let lane = at.index;
    row_scratch[lane] = partial;
    workgroupBarrier();
    for (var half = ROW_LANES / 2u; half > 0u; half = half / 2u) {
        if lane < half {
            row_scratch[lane] = max_keras(row_scratch[lane], row_scratch[lane + half]);
        }
        workgroupBarrier();
    }
    let total = row_scratch[0];
    workgroupBarrier();
    return total;
}

// The row a `rows` workgroup reduces (the host folds grids past the per-dimension limit
// into y).
fn row_of(wg: vec3<u32>, groups_x: u32) -> u32 {
    return wg.y * groups_x + wg.x;
}
