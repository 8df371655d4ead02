use super::{Gpu, Input};
use crate::error::Result;
use crate::ops::Pool2dSpec;
use crate::tensor::Tensor;

/// Mirrors `Params` in `shaders/max_pool2d.wgsl`, field for field.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    in_h: u32,
    in_w: u32,
    channels: u32,
    out_h: u32,
    out_w: u32,
    pool_h: u32,
    pool_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    total: u32,
    groups_x: u32,
    _pad0: u32,
    _pad1: u32,
}

impl Gpu {
    /// MaxPooling2D on the GPU; the same contract as [`crate::reference::max_pool2d`].
    pub fn max_pool2d(&self, spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
        const OP: &str = "max_pool2d";
        let g = spec.check(input.shape())?;
        let total = g.output.iter().product::<usize>();
        self.check_window(OP, &g)?;
        let grid = self.grid(OP, total)?;
        // As in conv2d: the window, grid and buffer checks make this conversion exact.
        let u = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let params = Params {
            batch: u(g.input[0]),
            in_h: u(g.input[1]),
            in_w: u(g.input[2]),
            channels: u(g.input[3]),
            out_h: u(g.output[1]),
            out_w: u(g.output[2]),
            pool_h: u(g.window[0]),
            pool_w: u(g.window[1]),
            stride_h: u(g.strides[0]),
            stride_w: u(g.strides[1]),
            pad_top: u(g.rows.pad_before),
            pad_left: u(g.cols.pad_before),
            total: u(total),
            groups_x: grid[0],
            _pad0: 0,
            _pad1: 0,
        };
        let inputs = [Input {
            name: "input",
            data: input.data(),
        }];
        let out = self.run(
            OP,
            &self.max_pool2d,
            bytemuck::bytes_of(&params),
            &inputs,
            total,
            grid,
        )?;
        Tensor::new(g.output.to_vec(), out)
    }
}
