use super::{Gpu, Input};
use crate::error::Result;
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

/// Mirrors `Params` in `shaders/conv2d.wgsl`, field for field.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    out_c: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    dil_h: u32,
    dil_w: u32,
    pad_top: u32,
    pad_left: u32,
    has_bias: u32,
    activation: u32,
    total: u32,
    groups_x: u32,
    _pad: u32,
}

impl Gpu {
    /// Conv2D on the GPU: NHWC `input`, HWIO `kernel`, optional `(filters,)` bias, fused
    /// activation; the same contract as [`crate::reference::conv2d`].
    pub fn conv2d(
        &self,
        spec: &Conv2dSpec,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d";
        let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
        let total = g.output.iter().product::<usize>();
        self.check_window(OP, &g)?;
        let grid = self.grid(OP, total)?;
        // Extents are bounded by buffer lengths (checked in `run` before anything is sent),
        // windows by `check_window` and the output by `grid`: whenever the op proceeds, every
        // value that matters fits in 32 bits and this conversion is exact.
        let u = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let params = Params {
            batch: u(g.input[0]),
            in_h: u(g.input[1]),
            in_w: u(g.input[2]),
            in_c: u(g.input[3]),
            out_h: u(g.output[1]),
            out_w: u(g.output[2]),
            out_c: u(g.output[3]),
            k_h: u(g.window[0]),
            k_w: u(g.window[1]),
            stride_h: u(g.strides[0]),
            stride_w: u(g.strides[1]),
            dil_h: u(g.dilation[0]),
            dil_w: u(g.dilation[1]),
            pad_top: u(g.rows.pad_before),
            pad_left: u(g.cols.pad_before),
            has_bias: u32::from(bias.is_some()),
            activation: spec.activation.shader_code(),
            total: u(total),
            groups_x: grid[0],
            _pad: 0,
        };
        // A binding cannot be empty: without a bias the shader never reads this placeholder.
        let no_bias = [0.0f32];
        let inputs = [
            Input {
                name: "input",
                data: input.data(),
            },
            Input {
                name: "kernel",
                data: kernel.data(),
            },
            Input {
                name: "bias",
                data: bias.map_or(&no_bias[..], Tensor::data),
            },
        ];
        let out = self.run(
            OP,
            &self.conv2d,
            bytemuck::bytes_of(&params),
            &inputs,
            total,
            grid,
        )?;
        Tensor::new(g.output.to_vec(), out)
    }
}
