// Shared by every shader; prepended at build time (each kernel's `wgsl!` list in its .rs file).

// Invocations per workgroup. The host passes it as a pipeline constant (WORKGROUP_SIZE in
// src/gpu/kernel.rs), so the value the dispatch grid is computed with and the one the shader
// runs with are the same.
override WG_SIZE: u32 = 64u;

// The flat index of this invocation in a 2-D grid of workgroups that is `groups_x` wide: the host
// folds grids past the per-dimension limit into y.
fn invocation(wg: vec3<u32>, lane: u32, groups_x: u32) -> u32 {
    return (wg.y * groups_x + wg.x) * WG_SIZE + lane;
}

// −∞ and a quiet NaN, made at run time from their bits: a constant expression that evaluates to
// an infinity or a NaN is an error in WGSL (Chrome's Tint rejects `bitcast<f32>(0xff800000u)`;
// naga lets it through). A `var` is never a constant expression.
fn negative_infinity() -> f32 {
    var bits = 0xff800000u;
    return bitcast<f32>(bits);
}

fn quiet_nan() -> f32 {
    var bits = 0x7fc00000u;
    return bitcast<f32>(bits);
}

// NaN tests: WGSL leaves min/max/clamp on NaN to the implementation, and Keras keeps NaN through
// relu, max and max-pooling, so the shaders decide explicitly.
// By the bits: drivers that compile with fast-math assumptions may fold `x != x` to false.
fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// XLA's maximum and minimum: NaN wins, and of two equal zeros +0.0 is the larger (−0.0 the
// smaller). WGSL's max and min leave both to the implementation.
fn max_keras(x: f32, y: f32) -> f32 {
    if is_nan(x) {
        return x;
    }
    if is_nan(y) {
        return y;
    }
    if x == y {
        return select(y, x, bitcast<u32>(x) == 0u);
    }
    return select(y, x, x > y);
}

fn min_keras(x: f32, y: f32) -> f32 {
    if is_nan(x) {
        return x;
    }
    if is_nan(y) {
        return y;
    }
    if x == y {
        return select(y, x, bitcast<u32>(x) == 0x80000000u);
    }
    return select(y, x, x < y);
}

fn is_nan4(v: vec4<f32>) -> vec4<bool> {
    return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}
