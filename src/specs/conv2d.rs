use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::shape::{Padding, Window2d};

const OP: &str = "conv2d";

/// A Keras `Conv2D` layer's hyper-parameters.
///
/// Defaults are Keras's: strides 1, padding `valid`, dilation 1, bias on, activation linear.
///
/// ```
/// use wgcnn::{Conv2dSpec, Padding};
/// // Seed example: Conv2D(32, 3, strides=2, padding='same') on 128×128×3.
/// let spec = Conv2dSpec::new(32, [3, 3]).strides([2, 2]).padding(Padding::Same);
/// assert_eq!(spec.output_shape([1, 128, 128, 3])?, [1, 64, 64, 32]);
/// assert_eq!(spec.param_count(3)?, 896);
/// # Ok::<(), wgcnn::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dSpec {
    /// Number of output channels.
    pub filters: usize,
    /// Kernel `(rows, cols)`.
    pub kernel_size: [usize; 2],
    /// Strides `(rows, cols)`.
    pub strides: [usize; 2],
    /// `valid` or `same`.
    pub padding: Padding,
    /// Dilation `(rows, cols)`; Keras refuses dilation > 1 together with stride > 1.
    pub dilation: [usize; 2],
    /// Whether the layer has a bias vector.
    pub use_bias: bool,
    /// Activation fused into the output.
    pub activation: Activation,
    /// Grouped convolution (Keras `groups`): input channels and filters split into this many
    /// groups, each filter seeing only its group's channels.
    pub groups: usize,
}

impl Conv2dSpec {
    /// `Conv2D(filters, kernel_size)` with Keras's defaults for everything else.
    pub const fn new(filters: usize, kernel_size: [usize; 2]) -> Self {
        Self {
            filters,
            kernel_size,
            strides: [1, 1],
            padding: Padding::Valid,
            dilation: [1, 1],
            use_bias: true,
            activation: Activation::Linear,
            groups: 1,
        }
    }

    /// Sets the number of groups.
    pub const fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Sets the strides.
    pub const fn strides(mut self, strides: [usize; 2]) -> Self {
        self.strides = strides;
        self
    }

    /// Sets the padding.
    pub const fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Sets the dilation rate.
    pub const fn dilation(mut self, dilation: [usize; 2]) -> Self {
        self.dilation = dilation;
        self
    }

    /// Turns the bias on or off.
    pub const fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Sets the fused activation.
    pub const fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Checks the hyper-parameters on their own, as Keras does when the layer is built.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Err(Error::InvalidConfig { op: OP, reason });
        if self.filters == 0 {
            return invalid("filters must be at least 1".into());
        }
        if self.kernel_size.contains(&0) {
            return invalid(format!("kernel_size {:?} has a zero", self.kernel_size));
        }
        if self.strides.contains(&0) {
            return invalid(format!("strides {:?} has a zero", self.strides));
        }
        if self.dilation.contains(&0) {
            return invalid(format!("dilation_rate {:?} has a zero", self.dilation));
        }
        if self.groups == 0 || !self.filters.is_multiple_of(self.groups) {
            return invalid(format!(
                "filters {} must be a multiple of groups {}",
                self.filters, self.groups
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

    /// Plans this layer on an NHWC input shape.
    pub fn plan(&self, input: [usize; 4]) -> Result<Window2d> {
        self.validate()?;
        if !input[3].is_multiple_of(self.groups) {
            return Err(Error::InvalidConfig {
                op: OP,
                reason: format!(
                    "input channels {} must be a multiple of groups {}",
                    input[3], self.groups
                ),
            });
        }
        Window2d::new(
            OP,
            input,
            self.filters,
            self.kernel_size,
            self.strides,
            self.dilation,
            self.padding,
        )
    }

    /// The NHWC output shape for an NHWC input shape.
    pub fn output_shape(&self, input: [usize; 4]) -> Result<[usize; 4]> {
        Ok(self.plan(input)?.output)
    }

    /// The kernel shape Keras stores, HWIO: `(kh, kw, in_channels / groups, filters)`.
    pub fn kernel_shape(&self, in_channels: usize) -> [usize; 4] {
        [
            self.kernel_size[0],
            self.kernel_size[1],
            in_channels / self.groups.max(1),
            self.filters,
        ]
    }

    /// Trainable parameters, as `model.summary()` counts them: `filters·kh·kw·cin (+ filters)`.
    pub fn param_count(&self, in_channels: usize) -> Result<usize> {
        self.validate()?;
        let weights = crate::tensor::element_count(&self.kernel_shape(in_channels)).ok_or(
            Error::Overflow {
                op: OP,
                what: "parameter count",
            },
        )?;
        let bias = if self.use_bias { self.filters } else { 0 };
        weights.checked_add(bias).ok_or(Error::Overflow {
            op: OP,
            what: "parameter count",
        })
    }

    /// Plans the layer for concrete tensors and checks that the kernel is `(kh, kw, cin, filters)`
    /// and the bias, present exactly when `use_bias`, is `(filters,)`.
    pub fn check(
        &self,
        input: &[usize],
        kernel: &[usize],
        bias: Option<&[usize]>,
    ) -> Result<Window2d> {
        let input4 = crate::shape::nhwc(OP, input)?;
        let expected_kernel = self.kernel_shape(input4[3]);
        if kernel != expected_kernel {
            return Err(Error::ShapeMismatch {
                op: OP,
                what: "kernel",
                expected: format!(
                    "{expected_kernel:?} = (kh, kw, in_channels of input {input4:?} / groups, filters)"
                ),
                actual: kernel.to_vec(),
            });
        }
        match (self.use_bias, bias) {
            (true, Some(b)) if b == [self.filters] => {}
            (true, other) => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    what: "bias",
                    expected: format!("({},) = (filters,)", self.filters),
                    actual: other.map(<[usize]>::to_vec).unwrap_or_default(),
                })
            }
            (false, Some(b)) => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    what: "bias",
                    expected: "no bias (use_bias is false)".into(),
                    actual: b.to_vec(),
                })
            }
            (false, None) => {}
        }
        self.plan(input4)
    }
}
