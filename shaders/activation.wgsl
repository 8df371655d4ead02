// Element-wise activations, shared by the kernels that fuse one into their store; prepended at
// build time (see SHADERS in src/gpu/mod.rs). Codes match Activation::shader_code.

fn activate(code: u32, x: f32) -> f32 {
    switch code {
        case 1u: { return max(x, 0.0); }
        case 2u: { return 1.0 / (1.0 + exp(-x)); }
        // Some drivers build tanh from exponentials, which overflow to NaN for large |x|;
        // tanh(±15) already rounds to ±1 in f32, so clamping changes no result.
        case 3u: { return tanh(clamp(x, -15.0, 15.0)); }
        default: { return x; }
    }
}

fn activate4(code: u32, v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(activate(code, v.x), activate(code, v.y), activate(code, v.z), activate(code, v.w));
}
