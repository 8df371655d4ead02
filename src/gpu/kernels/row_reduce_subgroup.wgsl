// row_reduce.wgsl's functions built on subgroup operations (wgpu's SUBGROUP feature): each
// subgroup reduces its lanes' partials in registers, its first active lane puts the result in
// workgroup memory, and every lane adds up those few values in subgroup order. Two barriers per
// reduction where the tree takes eight. Every lane of the
// workgroup must call these the same number of times, from uniform control flow. Uses
// max_keras, is_nan and quiet_nan from common.wgsl.

// Lanes per row: the workgroup size of the `rows` entry points (the host checks it against
// WORKGROUP_SIZE, which sizes their grids).
const ROW_LANES: u32 = 64u;

// What a lane knows about its place in the workgroup: the `rows` entry points take it as an
// argument and pass it on. Subgroups need not be numbered in lane order, nor be full: only
// `subgroup` and `subgroups` are relied on.
struct RowLane {
    @builtin(local_invocation_index) index: u32,
    @builtin(subgroup_id) subgroup: u32,
    @builtin(num_subgroups) subgroups: u32,
}

// One value per subgroup: at most ROW_LANES subgroups (wgpu's smallest subgroup has 4 lanes).
var<workgroup> row_scratch: array<f32, ROW_LANES>;

// Writes each subgroup's value to its slot; every lane then reads all slots.
fn row_publish(at: RowLane, value: f32) {
    if subgroupBroadcastFirst(at.index) == at.index {
        row_scratch[at.subgroup] = value;
    }
    workgroupBarrier();
}

fn row_sum(at: RowLane, partial: f32) -> f32 {
    row_publish(at, subgroupAdd(partial));
    var total = 0.0;
    for (var i = 0u; i < at.subgroups; i++) {
        total += row_scratch[i];
    }
    // Every lane has read the slots before the next reduction overwrites them.
    workgroupBarrier();
    return total;
}

// XLA's maximum of the row: a NaN anywhere makes it NaN. subgroupMax leaves NaN to the
// implementation, so NaN is looked for on its own.
fn row_max(at: RowLane, partial: f32) -> f32 {
    var m = subgroupMax(partial);
    if subgroupAny(is_nan(partial)) {
        m = quiet_nan();
    }
    row_publish(at, m);
    var total = row_scratch[0];
    for (var i = 1u; i < at.subgroups; i++) {
        total = max_keras(total, row_scratch[i]);
    }
    workgroupBarrier();
    return total;
}

// The row a `rows` workgroup reduces (the host folds grids past the per-dimension limit
// into y).
fn row_of(wg: vec3<u32>, groups_x: u32) -> u32 {
    return wg.y * groups_x + wg.x;
}
