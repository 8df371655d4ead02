use super::{Gpu, Input, Kernel};
use crate::error::Result;
use crate::ops::Conv2dSpec;
use crate::tensor::Tensor;

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
        let mut d = self.window_dispatch(OP, &g)?;
        d.params.has_bias = u32::from(bias.is_some());
        d.params.activation = spec.activation.shader_code();
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
        let params = bytemuck::bytes_of(&d.params);
        let out = self.run(OP, Kernel::Conv2d, params, &inputs, d.total, d.grid)?;
        Tensor::new(g.output.to_vec(), out)
    }
}
