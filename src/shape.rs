//! Keras 3's output-shape and padding arithmetic, in one place.
//!
//! Conv2D, DepthwiseConv2D and the pooling layers slide a window over each spatial axis the same
//! way; they differ only in whether the window is dilated. Everything that needs an output size
//! or a padding amount — the CPU reference, the GPU dispatcher, a model summary — asks
//! [`plan_axis`] (through [`Window2d`]), so the arithmetic cannot drift between them. The other
//! spatial layers have their planner here too: [`plan_border`] (ZeroPadding2D grows an axis,
//! Cropping2D shrinks it), [`plan_transpose_axis`] (Conv2DTranspose) and [`plan_scale`]
//! (UpSampling2D).
//!
//! Per axis, with input `in`, window `k`, stride `s`, dilation `d` and effective window
//! `e = d·(k−1)+1`:
//! - `valid`: `out = floor((in − e) / s) + 1`, no padding; empty (an error) when `in < e`.
//! - `same`: `out = ceil(in / s)`; padding total `max(0, (out−1)·s + e − in)`, of which
//!   `total / 2` goes before and the rest — one more when the total is odd — after.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Keras's `padding` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding; windows stay inside the input.
    #[default]
    Valid,
    /// Zero padding (for pooling: ignored cells) so that `out = ceil(in / stride)`.
    Same,
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        })
    }
}

impl FromStr for Padding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            _ => Err(format!("unknown padding '{s}' (expected valid or same)")),
        }
    }
}

/// The result of sliding a window along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisPlan {
    /// Output extent.
    pub output: usize,
    /// Padding cells before the first input cell.
    pub pad_before: usize,
    /// Padding cells after the last input cell (one more than `pad_before` when the total is odd).
    pub pad_after: usize,
}

/// Plans one axis: output size and padding, exactly as Keras 3 computes them.
///
/// `axis` (`"height"`/`"width"`) and `op` only name things in errors. `window`, `stride` and
/// `dilation` must be at least 1 (checked by the layer specs; an error here otherwise).
pub fn plan_axis(
    op: &'static str,
    axis: &'static str,
    input: usize,
    window: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Result<AxisPlan> {
    if window == 0 || stride == 0 || dilation == 0 {
        return Err(Error::InvalidConfig {
            op,
            reason: format!(
                "{axis}: window {window}, stride {stride} and dilation {dilation} must all be at least 1"
            ),
        });
    }
    if input == 0 {
        return Err(Error::InvalidConfig {
            op,
            reason: format!("input {axis} is 0"),
        });
    }
    let effective = (window - 1)
        .checked_mul(dilation)
        .and_then(|x| x.checked_add(1))
        .ok_or(Error::Overflow {
            op,
            what: "effective window",
        })?;
    match padding {
        Padding::Valid => {
            if input < effective {
                return Err(Error::EmptyOutput {
                    op,
                    axis,
                    input,
                    window: effective,
                });
            }
            Ok(AxisPlan {
                output: (input - effective) / stride + 1,
                pad_before: 0,
                pad_after: 0,
            })
        }
        Padding::Same => {
            let output = input.div_ceil(stride);
            // (output-1)*stride < input, so this cannot overflow once `effective` fits.
            let total = ((output - 1) * stride)
                .checked_add(effective)
                .ok_or(Error::Overflow {
                    op,
                    what: "padding",
                })?
                .saturating_sub(input);
            let pad_before = total / 2;
            Ok(AxisPlan {
                output,
                pad_before,
                pad_after: total - pad_before,
            })
        }
    }
}

/// What ZeroPadding2D (positive amounts) and Cropping2D (negative amounts) do to one axis:
/// `out = in + before + after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BorderPlan {
    /// Output extent.
    pub output: usize,
    /// Cells added before the first input cell (negative: input cells cropped away).
    pub before: isize,
    /// Cells added after the last input cell (negative: cropped away).
    pub after: isize,
}

/// Plans one axis of a border op: `out = in + before + after`, an error if that is not at
/// least 1 (cropping everything away) or overflows.
pub fn plan_border(
    op: &'static str,
    axis: &'static str,
    input: usize,
    before: isize,
    after: isize,
) -> Result<BorderPlan> {
    let output = isize::try_from(input)
        .ok()
        .and_then(|x| x.checked_add(before))
        .and_then(|x| x.checked_add(after))
        .ok_or(Error::Overflow { op, what: "output" })?;
    if output < 1 {
        return Err(Error::InvalidConfig {
            op,
            reason: format!(
                "{axis}: cropping {} and {} cells from an input of {input} leaves nothing",
                -before, -after
            ),
        });
    }
    Ok(BorderPlan {
        output: output as usize,
        before,
        after,
    })
}

/// ZeroPadding2D or Cropping2D on a per-example image `(h, w, c)`: both axes planned with
/// [`plan_border`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Border2d {
    /// Input `(height, width, channels)`.
    pub input: [usize; 3],
    /// Output `(height, width, channels)`.
    pub output: [usize; 3],
    /// Rows added (negative: cropped) above and below.
    pub rows: BorderPlan,
    /// Columns added (negative: cropped) left and right.
    pub cols: BorderPlan,
}

impl Border2d {
    /// Plans `[[top, bottom], [left, right]]` cells around (positive) or off (negative) `hwc`.
    pub fn new(op: &'static str, hwc: [usize; 3], amounts: [[isize; 2]; 2]) -> Result<Self> {
        let [h, w, c] = hwc;
        let rows = plan_border(op, "height", h, amounts[0][0], amounts[0][1])?;
        let cols = plan_border(op, "width", w, amounts[1][0], amounts[1][1])?;
        let output = [rows.output, cols.output, c];
        crate::tensor::element_count(&output).ok_or(Error::Overflow { op, what: "output" })?;
        Ok(Self {
            input: hwc,
            output,
            rows,
            cols,
        })
    }

    /// The input row of output row `oy`, or `None` in the padding.
    pub fn input_row(&self, oy: usize) -> Option<usize> {
        usize::try_from(oy as isize - self.rows.before)
            .ok()
            .filter(|&y| y < self.input[0])
    }

    /// The input column of output column `ox`, or `None` in the padding.
    pub fn input_col(&self, ox: usize) -> Option<usize> {
        usize::try_from(ox as isize - self.cols.before)
            .ok()
            .filter(|&x| x < self.input[1])
    }
}

/// What Conv2DTranspose does to one axis, as Keras's JAX backend computes it: the input is
/// spread out `stride` cells apart, padded with `pad_before` cells in front, and correlated
/// with the flipped kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransposePlan {
    /// Output extent.
    pub output: usize,
    /// Padding in front of the spread-out input.
    pub pad_before: usize,
}

/// Plans one axis of Conv2DTranspose. Keras: with `padding='valid'` the output is
/// `(in − 1)·s + max(e, s)`, with `'same'` it is `in·s`; an explicit `output_padding` makes it
/// `(in − 1)·s + e + output_padding` ('valid') or `(in − 1)·s + e mod 2 + output_padding`
/// ('same'), with `e = d·(k−1)+1` the dilated kernel.
#[allow(clippy::too_many_arguments)]
pub fn plan_transpose_axis(
    op: &'static str,
    axis: &'static str,
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> Result<TransposePlan> {
    if kernel == 0 || stride == 0 || dilation == 0 || input == 0 {
        return Err(Error::InvalidConfig {
            op,
            reason: format!(
                "{axis}: input {input}, kernel {kernel}, stride {stride} and dilation {dilation} must all be at least 1"
            ),
        });
    }
    let overflow = || Error::Overflow { op, what: "output" };
    let e = (kernel - 1)
        .checked_mul(dilation)
        .and_then(|x| x.checked_add(1))
        .ok_or_else(overflow)?;
    // JAX's padding of the spread-out input, (left, right).
    let (left, right) = match padding {
        Padding::Valid => {
            let extra = output_padding.unwrap_or(e.max(stride) - e);
            (e - 1, (e - 1).checked_add(extra).ok_or_else(overflow)?)
        }
        Padding::Same => {
            let total = match output_padding {
                None => stride + e - 2,
                Some(extra) => (e + e % 2 - 2).checked_add(extra).ok_or_else(overflow)?,
            };
            let left = (total / 2 + total % 2).min(e - 1);
            (left, total - left)
        }
    };
    // Spread-out length (in − 1)·s + 1, padded, minus the window: + 1 − e.
    let output = (input - 1)
        .checked_mul(stride)
        .and_then(|x| x.checked_add(1 + left))
        .and_then(|x| x.checked_add(right))
        .and_then(|x| x.checked_sub(e - 1))
        .ok_or_else(overflow)?;
    if output == 0 {
        return Err(Error::InvalidConfig {
            op,
            reason: format!("{axis}: the output would be empty"),
        });
    }
    Ok(TransposePlan {
        output,
        pad_before: left,
    })
}

/// UpSampling2D's size: `out = in · factor`.
pub fn plan_scale(op: &'static str, input: usize, factor: usize) -> Result<usize> {
    if factor == 0 {
        return Err(Error::InvalidConfig {
            op,
            reason: "size must be at least 1".into(),
        });
    }
    input
        .checked_mul(factor)
        .ok_or(Error::Overflow { op, what: "output" })
}

/// [`broadcast`] of two whole shapes, batch axis first: both must have one and agree on it.
/// Returns the output shape, batch included.
pub fn broadcast_batched(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    fn batch_axis(shape: &[usize]) -> Result<(&usize, &[usize])> {
        shape.split_first().ok_or_else(|| Error::ShapeMismatch {
            op: "merge",
            what: "input",
            expected: "a batch axis".into(),
            actual: shape.to_vec(),
        })
    }
    let (&batch, sa) = batch_axis(a)?;
    let (&batch_b, sb) = batch_axis(b)?;
    if batch != batch_b {
        return Err(Error::ShapeMismatch {
            op: "merge",
            what: "inputs",
            expected: format!("batch {batch}"),
            actual: b.to_vec(),
        });
    }
    Ok([&[batch][..], &broadcast("merge", sa, sb)?].concat())
}

/// NumPy broadcasting of two per-example shapes (aligned at the end; a size-1 axis repeats),
/// as Keras's merge layers do it: they pad the shorter shape with 1s after the batch axis.
pub fn broadcast(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], k: usize| {
        let lead = rank - s.len();
        if k < lead {
            1
        } else {
            s[k - lead]
        }
    };
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(Error::ShapeMismatch {
                op,
                what: "inputs",
                expected: format!("shapes that broadcast with {a:?}"),
                actual: b.to_vec(),
            }),
        })
        .collect()
}

/// `shape` as an NHWC input shape, or an error naming `op` if it is not rank 4.
pub(crate) fn nhwc(op: &'static str, shape: &[usize]) -> Result<[usize; 4]> {
    shape.try_into().map_err(|_| Error::ShapeMismatch {
        op,
        what: "input",
        expected: "rank 4 (batch, height, width, channels)".into(),
        actual: shape.to_vec(),
    })
}

/// The full geometry of a 2-D sliding-window op on an NHWC input: what every backend needs to
/// compute it. Built by [`crate::Conv2dSpec::plan`] and [`crate::Pool2dSpec::plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window2d {
    /// Input shape `(batch, height, width, channels)`.
    pub input: [usize; 4],
    /// Output shape `(batch, height, width, channels)`.
    pub output: [usize; 4],
    /// Window size `(rows, cols)`.
    pub window: [usize; 2],
    /// Strides `(rows, cols)`.
    pub strides: [usize; 2],
    /// Dilation `(rows, cols)`; `(1, 1)` for pooling.
    pub dilation: [usize; 2],
    /// Row plan (output height, top/bottom padding).
    pub rows: AxisPlan,
    /// Column plan (output width, left/right padding).
    pub cols: AxisPlan,
}

impl Window2d {
    /// Plans both spatial axes of `input` (NHWC); `out_channels` is the output's last dimension.
    pub(crate) fn new(
        op: &'static str,
        input: [usize; 4],
        out_channels: usize,
        window: [usize; 2],
        strides: [usize; 2],
        dilation: [usize; 2],
        padding: Padding,
    ) -> Result<Self> {
        let [batch, height, width, channels] = input;
        if batch == 0 || channels == 0 {
            return Err(Error::ShapeMismatch {
                op,
                what: "input",
                expected: "(batch ≥ 1, height ≥ 1, width ≥ 1, channels ≥ 1)".into(),
                actual: input.to_vec(),
            });
        }
        let rows = plan_axis(
            op,
            "height",
            height,
            window[0],
            strides[0],
            dilation[0],
            padding,
        )?;
        let cols = plan_axis(
            op,
            "width",
            width,
            window[1],
            strides[1],
            dilation[1],
            padding,
        )?;
        let output = [batch, rows.output, cols.output, out_channels];
        crate::tensor::element_count(&output).ok_or(Error::Overflow { op, what: "output" })?;
        Ok(Self {
            input,
            output,
            window,
            strides,
            dilation,
            rows,
            cols,
        })
    }

    /// The input row read by output row `oy` at window row `ky`, or `None` where it falls in the
    /// padding.
    pub fn input_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.strides[0] + ky * self.dilation[0])
            .checked_sub(self.rows.pad_before)
            .filter(|&y| y < self.input[1])
    }

    /// The input column read by output column `ox` at window column `kx`, or `None` in the padding.
    pub fn input_col(&self, ox: usize, kx: usize) -> Option<usize> {
        (ox * self.strides[1] + kx * self.dilation[1])
            .checked_sub(self.cols.pad_before)
            .filter(|&x| x < self.input[2])
    }

    /// The window rows of output row `oy` that fall inside the input (the others are padding):
    /// loops over a window need not walk a huge padded window cell by cell.
    pub fn rows_inside(&self, oy: usize) -> std::ops::Range<usize> {
        taps_inside(
            oy * self.strides[0],
            self.rows.pad_before,
            self.dilation[0],
            self.window[0],
            self.input[1],
        )
    }

    /// [`Window2d::rows_inside`] for the columns of output column `ox`.
    pub fn cols_inside(&self, ox: usize) -> std::ops::Range<usize> {
        taps_inside(
            ox * self.strides[1],
            self.cols.pad_before,
            self.dilation[1],
            self.window[1],
            self.input[2],
        )
    }
}

/// The taps `k < window` with `0 <= start + k·dilation − pad < size`.
fn taps_inside(
    start: usize,
    pad: usize,
    dilation: usize,
    window: usize,
    size: usize,
) -> std::ops::Range<usize> {
    let d = dilation.max(1);
    // First tap at or past the padding in front.
    let first = pad.saturating_sub(start).div_ceil(d).min(window);
    // Taps before the end of the input: start + k·d < pad + size.
    let end = (pad + size).saturating_sub(start).div_ceil(d).min(window);
    first..end.max(first)
}
