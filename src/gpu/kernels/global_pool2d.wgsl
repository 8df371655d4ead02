// GlobalAveragePooling2D and GlobalMaxPooling2D as a split reduction. Each image plane is cut
// into `slices` runs of at most `slice_len` pixels; `main` reduces one run of one channel
// (neighbouring invocations take neighbouring channels, so their loads are contiguous), and
// `reduce` combines a channel's runs. Thousands of short reductions instead of one long walk per
// channel: a 112×112×32 plane is 6,272 invocations of 64 loads each, not 32 of 12,544.
// With a single run per plane (`slices` = 1), `main` writes the result itself.
// Max: NaN wins, as in Keras (XLA's max keeps NaN). Average: the f32 sum divided by the number
// of pixels.

// Mirrors `GlobalPoolParams` in global_pool2d.rs (the kernel contract test checks every field).
struct Params {
    // Pixels per plane (h · w) and channels.
    pixels: u32,
    channels: u32,
    slices: u32,
    slice_len: u32,
    // Invocations of this dispatch: batch · slices · channels (main) or batch · channels.
    total: u32,
    groups_x: u32,
    // 1: max, 0: average.
    max: u32,
    // 1: this `main` has the whole plane (slices = 1) and writes the output.
    finish: u32,
    // Example n's channel c goes to n·out_pitch + out_offset + c.
    out_pitch: u32,
    out_offset: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

@group(0) @binding(1) var<storage, read> partial_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

fn combine(acc: f32, v: f32) -> f32 {
    if p.max != 0u {
        return max_keras(acc, v);
    }
    return acc + v;
}

fn start() -> f32 {
    if p.max != 0u {
        return negative_infinity();
    }
    return 0.0;
}

fn finished(acc: f32) -> f32 {
    if p.max != 0u {
        return acc;
    }
    return acc / f32(p.pixels);
}

// One run of one channel: invocation (n, s, c), channels fastest.
@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let c = idx % p.channels;
    let rest = idx / p.channels;
    let s = rest % p.slices;
    let n = rest / p.slices;
    let first = s * p.slice_len;
    let last = min(first + p.slice_len, p.pixels);
    var acc = start();
    for (var px = first; px < last; px++) {
        acc = combine(acc, input[(n * p.pixels + px) * p.channels + c]);
    }
    if p.finish != 0u {
        partial[n * p.out_pitch + p.out_offset + c] = finished(acc);
    } else {
        partial[idx] = acc;
    }
}

// A channel's runs combined: invocation (n, c).
@compute @workgroup_size(WG_SIZE)
fn reduce(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let idx = invocation(wg, lane, p.groups_x);
    if idx >= p.total {
        return;
    }
    let c = idx % p.channels;
    let n = idx / p.channels;
    var acc = start();
    for (var s = 0u; s < p.slices; s++) {
        acc = combine(acc, partial_in[(n * p.slices + s) * p.channels + c]);
    }
    output[n * p.out_pitch + p.out_offset + c] = finished(acc);
}
