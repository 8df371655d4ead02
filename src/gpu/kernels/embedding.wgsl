// Embedding: out[n, i, :] = table[id, :] as Keras picks the row on JAX: the input cast to int32
// as XLA converts (truncated toward zero, NaN to 0, ±inf and values past int32's range
// saturated), then `take`: ids in [-vocab, 0) counted from the end, every other id out of range
// a row of NaN.

// Mirrors `EmbeddingParams` in embedding.rs (the kernel contract test checks every field).
struct Params {
    total: u32,
    dim: u32,
    vocab: u32,
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let id = xla_i32(ids[idx / p.dim]);
    // The row, or p.vocab for none; in u32, so no vocabulary size overflows.
    var row = p.vocab;
    if id >= 0 {
        row = u32(id);
    } else {
        // -id without overflowing at i32's minimum.
        let back = u32(-(id + 1)) + 1u;
        if back <= p.vocab {
            row = p.vocab - back;
        }
    }
    if row < p.vocab {
        output[idx] = table[row * p.dim + idx % p.dim];
    } else {
        output[idx] = quiet_nan();
    }
}

// XLA's float32 -> int32: NaN to 0, out of range saturated. WGSL leaves NaN to the
// implementation, so every case outside int32 is decided here.
fn xla_i32(x: f32) -> i32 {
    if is_nan(x) {
        return 0;
    }
    if x >= 2147483648.0 {
        return 2147483647;
    }
    if x <= -2147483648.0 {
        return bitcast<i32>(0x80000000u);
    }
    return i32(x);
}
