//! Keras's 1D and 3D convolutions — `Conv1D`, `Conv3D`, `Conv1DTranspose`,
//! `Conv3DTranspose`, `SeparableConv1D`, `DepthwiseConv1D` — by their shape and parameter rules
//! only: `summary` and `--explain` describe them, wgcnn has no kernels to run them
//! ([`Layer::computes`] is false). Each spatial axis follows the same planners as the 2D layers
//! (`shape::plan_axis`, `shape::plan_transpose_axis`).

use super::config::Config;
use super::shapes::{axis_names, spatial as split};
use super::{described_only, described_only_line, explain, Layer, WeightSpec};
use crate::error::{Error, Result};
use crate::shape::{plan_axis, plan_transpose_axis, Padding};
use crate::tensor::Tensor;

/// Which convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvNdKind {
    /// `Conv1D` / `Conv3D`: kernel `(k…, in / groups, filters)`.
    Plain,
    /// `Conv1DTranspose` / `Conv3DTranspose`: kernel `(k…, filters, in)`.
    Transpose,
    /// `SeparableConv1D`: a depthwise kernel `(k, in, multiplier)` then a pointwise one
    /// `(1, in · multiplier, filters)`.
    Separable,
    /// `DepthwiseConv1D`: kernel `(k, in, multiplier)`, `in · multiplier` outputs.
    Depthwise,
}

/// A 1D or 3D convolution's hyper-parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvNd {
    /// The Keras class name.
    pub class: &'static str,
    /// Which convolution.
    pub kind: ConvNdKind,
    /// Output channels (the depthwise kind: none, `in · depth_multiplier` instead).
    pub filters: usize,
    /// Kernel size per spatial axis (1 or 3 of them).
    pub kernel: Vec<usize>,
    /// Strides per axis.
    pub strides: Vec<usize>,
    /// Dilation per axis.
    pub dilation: Vec<usize>,
    /// `valid` or `same`.
    pub padding: Padding,
    /// Conv1D's `padding='causal'`: `d·(k−1)` zeros before the sequence, none after.
    pub causal: bool,
    /// Channel groups (plain kind).
    pub groups: usize,
    /// Outputs per input channel (separable and depthwise kinds).
    pub depth_multiplier: usize,
    /// The transposes' explicit `output_padding`.
    pub output_padding: Option<Vec<usize>>,
    /// Whether there is a bias.
    pub use_bias: bool,
}

impl ConvNd {
    /// Reads Keras's config of `class`, whose kernel has `rank` spatial axes.
    pub(crate) fn from_config(
        c: &Config<'_>,
        class: &'static str,
        kind: ConvNdKind,
        rank: usize,
    ) -> Result<Self> {
        let mut keys = vec![
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ];
        keys.extend(match kind {
            ConvNdKind::Plain => &["filters", "groups"][..],
            ConvNdKind::Transpose => &["filters", "output_padding"][..],
            ConvNdKind::Separable => &["filters", "depth_multiplier"][..],
            ConvNdKind::Depthwise => &["depth_multiplier"][..],
        });
        c.check_keys(&keys)?;
        c.channels_last()?;
        let padding_name = c.str("padding")?.unwrap_or("valid");
        let causal = padding_name == "causal" && rank == 1 && kind == ConvNdKind::Plain;
        let padding = if causal {
            Padding::Valid
        } else {
            padding_name.parse().map_err(|_| {
                c.error(format!("padding '{padding_name}' is not valid for {class}"))
            })?
        };
        let layer = Self {
            class,
            kind,
            filters: match kind {
                ConvNdKind::Depthwise => 0,
                _ => c.positive("filters", None)?,
            },
            kernel: c.tuple("kernel_size", rank, None)?,
            strides: c.tuple("strides", rank, Some(1))?,
            dilation: c.tuple("dilation_rate", rank, Some(1))?,
            padding,
            causal,
            groups: match kind {
                ConvNdKind::Plain => c.positive("groups", Some(1))?,
                _ => 1,
            },
            depth_multiplier: match kind {
                ConvNdKind::Separable | ConvNdKind::Depthwise => {
                    c.positive("depth_multiplier", Some(1))?
                }
                _ => 1,
            },
            output_padding: match (kind, c.get("output_padding")) {
                (ConvNdKind::Transpose, Some(_)) => Some(c.tuple("output_padding", rank, None)?),
                _ => None,
            },
            use_bias: c.bool("use_bias", true)?,
        };
        let all = [&layer.kernel, &layer.strides, &layer.dilation];
        if all.iter().any(|v| v.contains(&0)) {
            return Err(c.error("kernel_size, strides and dilation_rate must be at least 1"));
        }
        if layer.groups > 1 && !layer.filters.is_multiple_of(layer.groups) {
            return Err(c.error(format!(
                "filters {} is not divisible by groups {}",
                layer.filters, layer.groups
            )));
        }
        if let Some(extra) = &layer.output_padding {
            if extra.iter().zip(&layer.strides).any(|(p, s)| p >= s) {
                return Err(c.error("output_padding must be smaller than the strides"));
            }
        }
        Ok(layer)
    }

    fn rank(&self) -> usize {
        self.kernel.len()
    }

    /// The input's spatial extents and channels, checked against the layer's rank.
    fn split<'a>(&self, input: &'a [usize]) -> Result<(&'a [usize], usize)> {
        split(self.class, self.rank(), input)
    }

    /// `in · depth_multiplier`: the depthwise step's outputs.
    fn mid_channels(&self, c: usize) -> Result<usize> {
        c.checked_mul(self.depth_multiplier).ok_or(Error::Overflow {
            op: self.class,
            what: "channels",
        })
    }

    fn out_channels(&self, c: usize) -> Result<usize> {
        match self.kind {
            ConvNdKind::Depthwise => self.mid_channels(c),
            _ => Ok(self.filters),
        }
    }
}

impl Layer for ConvNd {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let (spatial, c) = self.split(inputs[0])?;
        if self.groups > 1 && !c.is_multiple_of(self.groups) {
            return Err(Error::InvalidConfig {
                op: self.class,
                reason: format!(
                    "{c} input channels are not divisible by groups {}",
                    self.groups
                ),
            });
        }
        let names = axis_names(self.rank());
        let mut out = Vec::with_capacity(spatial.len() + 1);
        for (i, &n) in spatial.iter().enumerate() {
            let (k, s, d) = (self.kernel[i], self.strides[i], self.dilation[i]);
            out.push(match self.kind {
                ConvNdKind::Transpose => {
                    let extra = self.output_padding.as_ref().map(|p| p[i]);
                    plan_transpose_axis(self.class, names[i], n, k, s, d, self.padding, extra)?
                        .output
                }
                _ if self.causal => {
                    // Keras pads d·(k−1) zeros before the sequence, then slides 'valid'.
                    let padded = (k - 1)
                        .checked_mul(d)
                        .and_then(|p| p.checked_add(n))
                        .ok_or(Error::Overflow {
                            op: self.class,
                            what: "padded length",
                        })?;
                    plan_axis(self.class, names[i], padded, k, s, d, Padding::Valid)?.output
                }
                _ => plan_axis(self.class, names[i], n, k, s, d, self.padding)?.output,
            });
        }
        out.push(self.out_channels(c)?);
        Ok(out)
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let (_, c) = self.split(inputs[0])?;
        let with = |mut k: Vec<usize>, tail: [usize; 2]| {
            k.extend(tail);
            k
        };
        let mut specs = match self.kind {
            ConvNdKind::Plain => vec![WeightSpec::trainable(
                "kernel",
                with(self.kernel.clone(), [c / self.groups.max(1), self.filters]),
            )],
            ConvNdKind::Transpose => vec![WeightSpec::trainable(
                "kernel",
                with(self.kernel.clone(), [self.filters, c]),
            )],
            ConvNdKind::Separable => vec![
                WeightSpec::trainable(
                    "depthwise_kernel",
                    with(self.kernel.clone(), [c, self.depth_multiplier]),
                ),
                WeightSpec::trainable(
                    "pointwise_kernel",
                    vec![1, self.mid_channels(c)?, self.filters],
                ),
            ],
            ConvNdKind::Depthwise => vec![WeightSpec::trainable(
                "kernel",
                with(self.kernel.clone(), [c, self.depth_multiplier]),
            )],
        };
        if self.use_bias {
            specs.push(WeightSpec::trainable("bias", vec![self.out_channels(c)?]));
        }
        Ok(specs)
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let names = axis_names(self.rank());
        let Ok((spatial, c)) = self.split(inputs[0]) else {
            return Vec::new();
        };
        let mut lines = match self.kind {
            ConvNdKind::Transpose => spatial
                .iter()
                .zip(output)
                .enumerate()
                .map(|(i, (n, o))| {
                    format!(
                        "{}: out = {o}  (transposed, {}: input {n}, kernel {}, stride {})",
                        names[i], self.padding, self.kernel[i], self.strides[i]
                    )
                })
                .collect(),
            _ if self.causal => spatial
                .iter()
                .zip(output)
                .map(|(n, o)| {
                    let pad = self.dilation[0] * (self.kernel[0] - 1);
                    format!(
                        "steps: out = ceil({n} / {}) = {o}  (causal: pad {pad} before, 0 after)",
                        self.strides[0]
                    )
                })
                .collect(),
            _ => explain::window_axes(
                names,
                spatial,
                output,
                &self.kernel,
                &self.strides,
                &self.dilation,
                self.padding,
            ),
        };
        let k = &self.kernel;
        let bias = self.use_bias;
        match self.kind {
            ConvNdKind::Plain => {
                let inner: Vec<usize> = k.iter().copied().chain([c / self.groups.max(1)]).collect();
                lines.push(explain::params(self.filters, &inner, bias));
            }
            ConvNdKind::Transpose => {
                let inner: Vec<usize> = k.iter().copied().chain([c]).collect();
                lines.push(explain::params(self.filters, &inner, bias));
            }
            ConvNdKind::Separable => {
                let m = self.depth_multiplier;
                let dims: Vec<String> = k.iter().chain([&c, &m]).map(usize::to_string).collect();
                let count = k
                    .iter()
                    .chain([&c, &m])
                    .fold(1usize, |p, &d| p.saturating_mul(d));
                lines.push(format!("depthwise params = {} = {count}", dims.join(" × ")));
                lines.push(format!(
                    "pointwise {}",
                    explain::params(self.filters, &[c.saturating_mul(m)], bias)
                ));
            }
            ConvNdKind::Depthwise => {
                let units = c.saturating_mul(self.depth_multiplier);
                lines.push(explain::params(units, k, bias));
            }
        }
        lines.push(described_only_line(self.class));
        lines
    }

    fn reference(&self, _inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        Err(described_only(self.class))
    }

    fn computes(&self) -> bool {
        false
    }
}
