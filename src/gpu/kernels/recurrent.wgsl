// One time step of an LSTM or GRU layer, for every (example, unit): the input projection
// x·W + b is computed beforehand for all steps (as a Dense), so a step adds h_prev·U and applies
// the gates. Steps run as consecutive dispatches; step s reads the hidden state of step s − 1
// from `hidden` (all steps' states, [batch, steps, units]) and writes its own.
// LSTM gates (Keras's order): i, f, c, o; GRU (reset_after): z, r, h.
// Uses activate from activation.wgsl.

// Mirrors `RecurrentParams` in recurrent.rs (the kernel contract test checks every field).
struct Params {
    batch: u32,
    steps: u32,
    units: u32,
    // This step, in processing order.
    step: u32,
    // The time index of the input it reads (reversed for go_backwards).
    t: u32,
    // 0 LSTM, 1 GRU.
    kind: u32,
    activation: u32,
    recurrent_activation: u32,
    total: u32,
    groups_x: u32,
    // GRU: whether `recurrent_bias` holds real values.
    has_recurrent_bias: u32,
    _pad: u32,
}

// Params.kind: the host's codes are `Cell` in recurrent.rs.
const CELL_LSTM: u32 = 0u;
const CELL_GRU: u32 = 1u;

@group(0) @binding(0) var<uniform> p: Params;
// [batch, steps, gates · units]
@group(0) @binding(1) var<storage, read> projected: array<f32>;
// [units, gates · units]
@group(0) @binding(2) var<storage, read> recurrent: array<f32>;
// GRU: [gates · units]
@group(0) @binding(3) var<storage, read> recurrent_bias: array<f32>;
// [batch, steps, units]
@group(0) @binding(4) var<storage, read_write> hidden: array<f32>;
// LSTM: [batch, units]
@group(0) @binding(5) var<storage, read_write> cell: array<f32>;

// h_prev · U for gate column `col` (0 at the first step).
fn recur(n: u32, col: u32, gates: u32) -> f32 {
    if p.step == 0u {
        return 0.0;
    }
    let prev = (n * p.steps + p.step - 1u) * p.units;
    let width = gates * p.units;
    var acc = 0.0;
    for (var k = 0u; k < p.units; k++) {
        acc += hidden[prev + k] * recurrent[k * width + col];
    }
    return acc;
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let n = idx / p.units;
    let j = idx % p.units;
    let u = p.units;
    let out = (n * p.steps + p.step) * u + j;
    if p.kind == CELL_LSTM {
        let x = (n * p.steps + p.t) * 4u * u;
        let i = activate(p.recurrent_activation, projected[x + j] + recur(n, j, 4u));
        let f = activate(p.recurrent_activation, projected[x + u + j] + recur(n, u + j, 4u));
        let g = activate(p.activation, projected[x + 2u * u + j] + recur(n, 2u * u + j, 4u));
        let o = activate(p.recurrent_activation, projected[x + 3u * u + j] + recur(n, 3u * u + j, 4u));
        var c_prev = 0.0;
        if p.step > 0u {
            c_prev = cell[n * u + j];
        }
        let c = f * c_prev + i * g;
        cell[n * u + j] = c;
        hidden[out] = o * activate(p.activation, c);
    } else {
        let x = (n * p.steps + p.t) * 3u * u;
        var bz = 0.0;
        var br = 0.0;
        var bh = 0.0;
        if p.has_recurrent_bias != 0u {
            bz = recurrent_bias[j];
            br = recurrent_bias[u + j];
            bh = recurrent_bias[2u * u + j];
        }
        let z = activate(p.recurrent_activation, projected[x + j] + recur(n, j, 3u) + bz);
        let r = activate(p.recurrent_activation, projected[x + u + j] + recur(n, u + j, 3u) + br);
        let hh = activate(p.activation, projected[x + 2u * u + j] + r * (recur(n, 2u * u + j, 3u) + bh));
        var h_prev = 0.0;
        if p.step > 0u {
            h_prev = hidden[(n * p.steps + p.step - 1u) * u + j];
        }
        hidden[out] = z * h_prev + (1.0 - z) * hh;
    }
}
