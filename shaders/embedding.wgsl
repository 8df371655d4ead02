// Embedding: out[n, i, :] = table[id, :], id the input value truncated toward zero (Keras casts
// float inputs to int32), negative ids counted from the end, ids out of range giving NaN — as
// Keras's `take` does on JAX.

// Mirrors `EmbeddingParams` in src/gpu/kernels.rs (a test checks the size).
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
    let raw = trunc(ids[idx / p.dim]);
    let vocab = f32(p.vocab);
    let id = select(raw, raw + vocab, raw < 0.0);
    if id >= 0.0 && id < vocab {
        output[idx] = table[u32(id) * p.dim + idx % p.dim];
    } else {
        output[idx] = bitcast<f32>(0x7fc00000u);
    }
}
