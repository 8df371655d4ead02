use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::shape::{plan_transpose_axis, Padding, TransposePlan};

const OP: &str = "conv2d_transpose";

/// A Keras `Conv2DTranspose` layer's hyper-parameters. Kernel `(kh, kw, filters, in_channels)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransposeSpec {
    /// Output channels.
    pub filters: usize,
    /// Kernel `(rows, cols)`.
    pub kernel_size: [usize; 2],
    /// Strides `(rows, cols)`: how far apart the input cells land.
    pub strides: [usize; 2],
    /// `valid` or `same`.
    pub padding: Padding,
    /// Keras's `output_padding`, if given.
    pub output_padding: Option<[usize; 2]>,
    /// Dilation `(rows, cols)`.
    pub dilation: [usize; 2],
    /// Whether the layer has a bias.
    pub use_bias: bool,
    /// Activation fused into the output.
    pub activation: Activation,
}

/// Conv2DTranspose planned on an NHWC input: both axes, and everything a backend needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transpose2d {
    /// Input `(batch, height, width, channels)`.
    pub input: [usize; 4],
    /// Output `(batch, height, width, filters)`.
    pub output: [usize; 4],
    /// Rows.
    pub rows: TransposePlan,
    /// Columns.
    pub cols: TransposePlan,
}

impl TransposeSpec {
    /// `Conv2DTranspose(filters, kernel_size)` with Keras's defaults.
    pub const fn new(filters: usize, kernel_size: [usize; 2]) -> Self {
        Self {
            filters,
            kernel_size,
            strides: [1, 1],
            padding: Padding::Valid,
            output_padding: None,
            dilation: [1, 1],
            use_bias: true,
            activation: Activation::Linear,
        }
    }

    /// Plans the layer on an NHWC input shape.
    pub fn plan(&self, input: [usize; 4]) -> Result<Transpose2d> {
        if self.filters == 0 {
            return Err(Error::InvalidConfig {
                op: OP,
                reason: "filters must be at least 1".into(),
            });
        }
        let [n, h, w, _] = input;
        let op = self.output_padding;
        let rows = plan_transpose_axis(
            OP,
            "height",
            h,
            self.kernel_size[0],
            self.strides[0],
            self.dilation[0],
            self.padding,
            op.map(|p| p[0]),
        )?;
        let cols = plan_transpose_axis(
            OP,
            "width",
            w,
            self.kernel_size[1],
            self.strides[1],
            self.dilation[1],
            self.padding,
            op.map(|p| p[1]),
        )?;
        let output = [n, rows.output, cols.output, self.filters];
        crate::tensor::element_count(&output).ok_or(Error::Overflow {
            op: OP,
            what: "output",
        })?;
        Ok(Transpose2d {
            input,
            output,
            rows,
            cols,
        })
    }

    /// The kernel shape Keras stores: `(kh, kw, filters, in_channels)`.
    pub fn kernel_shape(&self, in_channels: usize) -> [usize; 4] {
        [
            self.kernel_size[0],
            self.kernel_size[1],
            self.filters,
            in_channels,
        ]
    }

    /// Plans the layer for concrete tensors, checking the kernel and bias shapes.
    pub fn check(
        &self,
        input: &[usize],
        kernel: &[usize],
        bias: Option<&[usize]>,
    ) -> Result<Transpose2d> {
        let g = self.plan(crate::shape::nhwc(OP, input)?)?;
        let want = self.kernel_shape(g.input[3]);
        if kernel != want {
            return Err(Error::ShapeMismatch {
                op: OP,
                what: "kernel",
                expected: format!("{want:?} = (kh, kw, filters, in_channels)"),
                actual: kernel.to_vec(),
            });
        }
        match (self.use_bias, bias) {
            (true, Some(b)) if b == [self.filters] => Ok(g),
            (false, None) => Ok(g),
            (_, b) => Err(Error::ShapeMismatch {
                op: OP,
                what: "bias",
                expected: if self.use_bias {
                    format!("({},)", self.filters)
                } else {
                    "no bias".into()
                },
                actual: b.map(<[usize]>::to_vec).unwrap_or_default(),
            }),
        }
    }

    /// The input row that output row `oy` reads at tap `ky`, if any: the spread-out input cell
    /// `oy + (kh − 1 − ky)·dil − pad` when it is a real cell.
    pub fn source(
        &self,
        plan: &TransposePlan,
        o: usize,
        k: usize,
        axis: usize,
        size: usize,
    ) -> Option<usize> {
        let reach = o + (self.kernel_size[axis] - 1 - k) * self.dilation[axis];
        let j = reach.checked_sub(plan.pad_before)?;
        let s = self.strides[axis];
        (j % s == 0 && j / s < size).then_some(j / s)
    }
}
