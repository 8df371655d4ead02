// The fused residual of the Conv2D kernels that store whole vec4s of filters (blocked, tiled,
// tiled64): a tensor of the output's shape added before the activation (a fused Add), bound
// at slot 5 whether or not the layer has one (`p.has_residual` says). Prepended after
// window.wgsl, whose Params it reads.

@group(0) @binding(5) var<storage, read> residual: array<vec4<f32>>;

// Filter vec4 `nb` of position `m` of the fused residual (dense, `col_blocks` vec4s a row),
// or zeros when there is none.
fn residual_at(m: u32, nb: u32, col_blocks: u32) -> vec4<f32> {
    if p.has_residual == 0u {
        return vec4<f32>(0.0);
    }
    return residual[m * col_blocks + nb];
}
