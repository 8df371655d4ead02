use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::shape::{Padding, Window2d};

const OP: &str = "depthwise_conv2d";

/// A Keras `DepthwiseConv2D` layer's hyper-parameters: each input channel convolved with its
/// own `depth_multiplier` filters; output channel `c·depth_multiplier + m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseSpec {
    /// Kernel `(rows, cols)`.
    pub kernel_size: [usize; 2],
    /// Strides `(rows, cols)`.
    pub strides: [usize; 2],
    /// `valid` or `same`.
    pub padding: Padding,
    /// Dilation `(rows, cols)`.
    pub dilation: [usize; 2],
    /// Filters per input channel.
    pub depth_multiplier: usize,
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// Activation fused into the output.
    pub activation: Activation,
}

impl DepthwiseSpec {
    /// `DepthwiseConv2D(kernel_size)` with Keras's defaults.
    pub const fn new(kernel_size: [usize; 2]) -> Self {
        Self {
            kernel_size,
            strides: [1, 1],
            padding: Padding::Valid,
            dilation: [1, 1],
            depth_multiplier: 1,
            use_bias: true,
            activation: Activation::Linear,
        }
    }

    /// Checks the hyper-parameters on their own, as Keras does.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Err(Error::InvalidConfig { op: OP, reason });
        if self.depth_multiplier == 0 {
            return invalid("depth_multiplier must be at least 1".into());
        }
        if self.kernel_size.contains(&0) || self.strides.contains(&0) || self.dilation.contains(&0)
        {
            return invalid(format!(
                "kernel_size {:?}, strides {:?} and dilation_rate {:?} must be at least 1",
                self.kernel_size, self.strides, self.dilation
            ));
        }
        if self.dilation.iter().any(|&d| d > 1) && self.strides.iter().any(|&s| s > 1) {
            return invalid(format!(
                "dilation_rate {:?} > 1 cannot be combined with strides {:?} > 1 (Keras refuses it too)",
                self.dilation, self.strides
            ));
        }
        Ok(())
    }

    /// Plans the layer on an NHWC input shape.
    pub fn plan(&self, input: [usize; 4]) -> Result<Window2d> {
        self.validate()?;
        let out_c = input[3]
            .checked_mul(self.depth_multiplier)
            .ok_or(Error::Overflow {
                op: OP,
                what: "output channels",
            })?;
        Window2d::new(
            OP,
            input,
            out_c,
            self.kernel_size,
            self.strides,
            self.dilation,
            self.padding,
        )
    }

    /// The kernel shape Keras stores: `(kh, kw, in_channels, depth_multiplier)`.
    pub fn kernel_shape(&self, in_channels: usize) -> [usize; 4] {
        [
            self.kernel_size[0],
            self.kernel_size[1],
            in_channels,
            self.depth_multiplier,
        ]
    }

    /// Plans the layer for concrete tensors, checking the kernel and bias shapes.
    pub fn check(
        &self,
        input: &[usize],
        kernel: &[usize],
        bias: Option<&[usize]>,
    ) -> Result<Window2d> {
        let input4 = crate::shape::nhwc(OP, input)?;
        let g = self.plan(input4)?;
        if kernel != self.kernel_shape(input4[3]) {
            return Err(Error::ShapeMismatch {
                op: OP,
                what: "kernel",
                expected: format!("{:?}", self.kernel_shape(input4[3])),
                actual: kernel.to_vec(),
            });
        }
        match (self.use_bias, bias) {
            (true, Some(b)) if b == [g.output[3]] => Ok(g),
            (false, None) => Ok(g),
            (_, b) => Err(Error::ShapeMismatch {
                op: OP,
                what: "bias",
                expected: if self.use_bias {
                    format!("({},)", g.output[3])
                } else {
                    "no bias".into()
                },
                actual: b.map(<[usize]>::to_vec).unwrap_or_default(),
            }),
        }
    }
}
