// Element-wise binary ops with NumPy broadcasting (the merge layers Add, Subtract, Multiply,
// Average, Maximum, Minimum; keras.ops arithmetic; PReLU's alpha). One output value per
// invocation. Each operand is addressed through its own strides over the output's dimensions
// (stride 0 along a broadcast axis), so any broadcast of up to 8 dimensions is one dispatch.
// Merges of more than two inputs chain dispatches that accumulate into the output.

// Mirrors `BinaryParams` in binary.rs (the kernel contract test checks every field).
struct Params {
    total: u32,
    rank: u32,
    // One of the OP_* consts below.
    op: u32,
    groups_x: u32,
    // 1: the left operand is the output itself (a chained merge); `a` is not read.
    accumulate: u32,
    // The result is divided by this (Average's last step; 1 otherwise).
    divisor: f32,
    // Added to the left operand's index (a gather starting inside a row).
    a_offset: u32,
    // Activation applied to the result (activation.wgsl's codes; 0 linear): a merge followed
    // by an activation layer, fused.
    activation: u32,
    // Output dimensions, outermost first; entries past `rank` are unused.
    dims: array<vec4<u32>, 2>,
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
}

// Params.op: the host's codes are `BinaryOp` in binary.rs. PRELU: b is alpha; FIRST: a alone
// (a strided gather).
const OP_ADD: u32 = 0u;
const OP_SUBTRACT: u32 = 1u;
const OP_MULTIPLY: u32 = 2u;
const OP_DIVIDE: u32 = 3u;
const OP_MAXIMUM: u32 = 4u;
const OP_MINIMUM: u32 = 5u;
const OP_PRELU: u32 = 6u;
const OP_REVERSE_SUBTRACT: u32 = 7u;
const OP_REVERSE_DIVIDE: u32 = 8u;
const OP_FIRST: u32 = 9u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

fn dim(k: u32) -> u32 {
    return p.dims[k / 4u][k % 4u];
}

fn a_stride(k: u32) -> u32 {
    return p.a_strides[k / 4u][k % 4u];
}

fn b_stride(k: u32) -> u32 {
    return p.b_strides[k / 4u][k % 4u];
}

fn apply(x: f32, y: f32) -> f32 {
    switch p.op {
        case OP_SUBTRACT: { return x - y; }
        case OP_MULTIPLY: { return x * y; }
        case OP_DIVIDE: { return x / y; }
        case OP_MAXIMUM: { return max_keras(x, y); }
        case OP_MINIMUM: { return min_keras(x, y); }
        // Keras's PReLU: relu(x) − alpha·relu(−x).
        case OP_PRELU: { return relu(x) - y * relu(-x); }
        case OP_REVERSE_SUBTRACT: { return y - x; }
        case OP_REVERSE_DIVIDE: { return y / x; }
        case OP_FIRST: { return x; }
        case OP_ADD, default: { return x + y; }
    }
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    var rest = idx;
    var ia = p.a_offset;
    var ib = 0u;
    for (var k = p.rank; k > 0u; k--) {
        let d = dim(k - 1u);
        let c = rest % d;
        rest = rest / d;
        ia += c * a_stride(k - 1u);
        ib += c * b_stride(k - 1u);
    }
    var x: f32;
    if p.accumulate != 0u {
        x = output[idx];
    } else {
        x = a[ia];
    }
    var y = apply(x, b[ib]) / p.divisor;
    if p.activation != 0u {
        y = activate(p.activation, y);
    }
    output[idx] = y;
}
