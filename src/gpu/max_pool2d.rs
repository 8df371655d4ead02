use super::{Gpu, Input, Kernel};
use crate::error::Result;
use crate::ops::Pool2dSpec;
use crate::tensor::Tensor;

impl Gpu {
    /// MaxPooling2D on the GPU; the same contract as [`crate::reference::max_pool2d`].
    pub fn max_pool2d(&self, spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
        const OP: &str = "max_pool2d";
        let g = spec.check(input.shape())?;
        let d = self.window_dispatch(OP, &g, Kernel::MaxPool2d)?;
        let inputs = [Input {
            name: "input",
            data: input.data(),
        }];
        let params = bytemuck::bytes_of(&d.params);
        let out = self.run(OP, Kernel::MaxPool2d, params, &inputs, d.total, d.grid)?;
        Tensor::new(g.output.to_vec(), out)
    }
}
