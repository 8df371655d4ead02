//! Keras layers, one file each. Every layer implements [`Layer`]: it reads its config, infers
//! its output shape, names its weights, explains its arithmetic, and computes — on the CPU
//! reference, on the fast CPU backend and, lowered to kernels, on the GPU. The crate's
//! `REGISTRY` maps Keras class names to layers; adding a layer means one new file, one registry
//! line and its tests. A layer defined outside the crate implements [`Layer`] too (see
//! [`crate::model::Sequential`]) and runs on the reference and CPU backends.
//!
//! Shapes passed to a layer never include the batch dimension (Keras prints it as `None`);
//! tensors passed to it always do.

mod config;
mod conv_lowering;
mod explain;

mod activation;
mod application_layers;
mod average_pooling2d;
mod batch_normalization;
mod border2d;
mod concatenate;
mod conv2d;
mod conv2d_transpose;
mod conv_nd;
mod cropping2d;
mod dense;
mod depthwise_conv2d;
mod elu;
mod embedding;
mod flatten;
mod global_pooling2d;
mod identity;
mod keras_ops;
mod layer_normalization;
mod leaky_relu;
mod max_pooling2d;
mod merge;
mod normalization;
mod permute;
mod pooling_nd;
mod prelu;
mod random_crop;
mod recurrent;
mod relu;
mod rescaling;
mod reshape;
mod reshaping_nd;
mod separable_conv2d;
mod softmax;
mod upsampling2d;
mod zero_padding2d;

use std::fmt;

pub use activation::ActivationLayer;
pub use application_layers::{CustomScaleLayer, LayerScale};
pub use average_pooling2d::AveragePooling2d;
pub use batch_normalization::BatchNormalization;
pub use concatenate::Concatenate;
pub(crate) use config::as_usize;
pub(crate) use config::Config;
pub use config::LayerActivation;
pub use conv2d::Conv2d;
pub use conv2d_transpose::Conv2dTranspose;
pub use conv_nd::{ConvNd, ConvNdKind};
pub use cropping2d::Cropping2d;
pub use dense::Dense;
pub use depthwise_conv2d::DepthwiseConv2d;
pub use elu::Elu;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use global_pooling2d::{GlobalPooling2d, Reduce};
pub use identity::Identity;
pub use keras_ops::{NumpyOp, NumpyOpKind};
pub use layer_normalization::LayerNormalization;
pub use leaky_relu::LeakyRelu;
pub use max_pooling2d::MaxPooling2d;
pub use merge::{Merge, MergeOp};
pub use normalization::Normalization;
pub use permute::Permute;
pub use pooling_nd::{GlobalPoolingNd, PoolingNd};
pub use prelu::Prelu;
pub use random_crop::RandomCrop;
pub use recurrent::{Recurrent, RecurrentCell};
pub use relu::Relu;
pub use rescaling::Rescaling;
pub use reshape::Reshape;
pub use reshaping_nd::{ReshapingNd, Resize};
pub use separable_conv2d::SeparableConv2d;
pub use softmax::Softmax;
pub use upsampling2d::UpSampling2d;
pub use zero_padding2d::ZeroPadding2d;

use crate::activation::ElementFn;
use crate::error::{Error, Result};
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// One weight a layer stores, as Keras saves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightSpec {
    /// Keras's variable name (`kernel`, `bias`, `moving_mean`, ...).
    pub name: &'static str,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Whether it is trainable by nature (BatchNormalization's moving statistics are not).
    pub trainable: bool,
    /// Where Keras 3 stores it under the layer's path: `vars`, or `cell/vars` for recurrent
    /// layers.
    pub group: &'static str,
    /// Whether inference reads it (Normalization's integer `count` is only bookkeeping: the
    /// loader accepts any dtype for it).
    pub inference: bool,
}

impl WeightSpec {
    /// A trainable weight under `vars`.
    pub fn trainable(name: &'static str, shape: Vec<usize>) -> Self {
        Self {
            name,
            shape,
            trainable: true,
            group: "vars",
            inference: true,
        }
    }

    /// A non-trainable weight under `vars` (statistics, counts).
    pub fn frozen(name: &'static str, shape: Vec<usize>) -> Self {
        Self {
            trainable: false,
            ..Self::trainable(name, shape)
        }
    }

    /// The number of values, checked.
    pub fn count(&self) -> Result<usize> {
        crate::tensor::element_count(&self.shape).ok_or(Error::Overflow {
            op: "weights",
            what: "parameter count",
        })
    }
}

/// What a layer can contribute to an epilogue fused into the layer before it.
#[derive(Debug, Clone, PartialEq)]
pub enum EpilogueStep {
    /// `x·scale[c] + shift[c]` per channel (BatchNormalization at inference).
    Affine(Vec<f32>, Vec<f32>),
    /// An element-wise function (an activation layer).
    Func(ElementFn),
    /// `x + other` with a second tensor of the same shape (an `Add` of two inputs: ResNet's
    /// shortcut).
    Residual,
}

/// Work fused into the end of a layer: a per-channel affine map then an element-wise function,
/// applied to the layer's output (after its own bias) before it is stored — Conv2D followed by
/// BatchNormalization and ReLU computed in one pass, on the CPU and the GPU alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Epilogue {
    /// `(scale, shift)` per output channel.
    pub affine: Option<(Vec<f32>, Vec<f32>)>,
    /// Whether the layer's last input is a tensor of the output's shape added after the affine
    /// map, before `func` (a fused `Add`).
    pub residual: bool,
    /// Applied last.
    pub func: ElementFn,
}

impl Epilogue {
    /// A short name of this epilogue's values, for keying uploaded weights (a layer called
    /// twice with different epilogues uploads both).
    pub(crate) fn key(&self) -> String {
        let values = self.affine.iter().flat_map(|(s, t)| s.iter().chain(t));
        let h = crate::hash::fnv1a64(values.flat_map(|v| v.to_bits().to_le_bytes()));
        format!("fused {:?} {} {h:016x}", self.func, self.residual)
    }

    /// Combines a layer's own bias with the affine map: `(x + b)·s + t = x·s + (b·s + t)`.
    /// Returns `(scale, shift)`, either possibly absent.
    pub(crate) fn with_bias(&self, bias: Option<&[f32]>) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
        match (&self.affine, bias) {
            (None, b) => (None, b.map(<[f32]>::to_vec)),
            (Some((s, t)), None) => (Some(s.clone()), Some(t.clone())),
            (Some((s, t)), Some(b)) => {
                let shift = b
                    .iter()
                    .zip(s)
                    .zip(t)
                    .map(|((&b, &s), &t)| (f64::from(b) * f64::from(s) + f64::from(t)) as f32)
                    .collect();
                (Some(s.clone()), Some(shift))
            }
        }
    }

    /// The fast CPU backend's form of this epilogue: `affine` is the layer's combined scale
    /// and shift ([`Epilogue::with_bias`]), `residual` the fused `Add`'s other input, if any.
    #[cfg(feature = "native")]
    pub(crate) fn finish<'a>(
        &self,
        affine: &'a (Option<Vec<f32>>, Option<Vec<f32>>),
        residual: Option<&'a [f32]>,
    ) -> crate::cpu::Finish<'a> {
        crate::cpu::Finish {
            scale: affine.0.as_deref(),
            shift: affine.1.as_deref(),
            residual,
            func: self.func,
        }
    }
}

/// A Keras layer: everything wgcnn knows about one kind of layer, in one place.
pub trait Layer: fmt::Debug + Send + Sync {
    /// The Keras class name (`Conv2D`).
    fn class_name(&self) -> &'static str;

    /// How many inputs the layer takes, `(min, max)`.
    fn arity(&self) -> (usize, usize) {
        (1, 1)
    }

    /// The output shape for these input shapes (all without batch), as Keras infers it.
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>>;

    /// The weights Keras stores for this layer on these inputs, in its order.
    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let _ = inputs;
        Ok(Vec::new())
    }

    /// Lines deriving the output size and parameter count with the numbers filled in, as the
    /// seed documents do (`wgcnn summary --explain`).
    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        let _ = (inputs, output);
        vec!["shape unchanged; params = 0".into()]
    }

    /// The CPU reference: obviously correct, slow. `weights` are in [`Layer::weights`]'s order.
    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor>;

    /// The fast CPU backend; the reference unless the layer has something faster. Only with
    /// the `native` feature, which brings the fast backend's threads and GEMMs.
    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        self.reference(inputs, weights)
    }

    /// Lowers the layer to GPU kernels: reads its inputs from the [`Lowering`], writes its
    /// output (or aliases an input to it). Every layer wgcnn reads from Keras has one; a layer
    /// defined outside the crate (which cannot record kernels) keeps this default, runs on the
    /// reference and CPU backends, and makes compiling its model for the GPU a
    /// [`Error::NoGpuLowering`].
    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let _ = l;
        Err(Error::NoGpuLowering {
            layer: self.class_name().to_string(),
        })
    }

    /// Whether wgcnn can compute this layer. Layers it knows only by their shape and
    /// parameter rules (Conv3D, the 1D and 3D pooling layers, ...) say no: a model holding
    /// one has a `summary` and `--explain` but does not run ([`Error::CannotRun`]).
    fn computes(&self) -> bool {
        true
    }

    /// Floating-point operations for one example (2 per multiply-add), for `bench`.
    fn flops(&self, inputs: &[&[usize]], output: &[usize]) -> u64 {
        let _ = (inputs, output);
        0
    }

    /// Whether [`Layer::lower`] can write its output into a channel slice of a larger tensor
    /// (so that a Concatenate after it needs no copy).
    fn writes_channel_slices(&self) -> bool {
        false
    }

    /// For a layer whose output is its inputs side by side along the last axis (Concatenate):
    /// where each input starts. The GPU compiler places producers there.
    fn channel_slices(&self, inputs: &[&[usize]]) -> Option<Vec<usize>> {
        let _ = inputs;
        None
    }

    /// The zeros this layer adds around each image when that is all it does (ZeroPadding2D):
    /// `[[top, bottom], [left, right]]`. On the GPU a layer that
    /// [takes a zero-padded input](Layer::takes_zero_padded_input) and is its only reader
    /// gathers those zeros itself, with no padding pass.
    fn as_zero_padding(&self) -> Option<[[usize; 2]; 2]> {
        None
    }

    /// Whether [`Layer::lower`] and [`Layer::lower_fused`] accept input 0 zero-padded without
    /// the zeros stored: they must pass it only to kernels that gather with bounds checks (the
    /// convolution emitters), which then read the zeros as window padding.
    fn takes_zero_padded_input(&self) -> bool {
        false
    }

    /// This layer as a step of an epilogue fused into the layer before it (BatchNormalization's
    /// affine map, an activation layer's function), if it can be one.
    fn as_epilogue(&self, weights: &[Tensor]) -> Option<Result<EpilogueStep>> {
        let _ = weights;
        None
    }

    /// Whether the layer can absorb an [`Epilogue`] (its own activation must be linear).
    fn takes_epilogue(&self) -> bool {
        false
    }

    /// Whether the epilogue may include a per-channel affine map (BatchNormalization), or an
    /// activation only (a merge).
    fn takes_affine(&self) -> bool {
        true
    }

    /// Whether `Layer::cpu_fused` (`native` feature) and `Layer::lower_fused` accept an
    /// epilogue with a residual (an extra last input).
    fn takes_residual(&self) -> bool {
        false
    }

    /// The fast CPU evaluation with `epilogue` applied to the output
    /// ([`Layer::takes_epilogue`] layers only; `native` feature).
    #[cfg(feature = "native")]
    fn cpu_fused(
        &self,
        inputs: &[&Tensor],
        weights: &[Tensor],
        epilogue: &Epilogue,
    ) -> Result<Tensor> {
        let _ = (inputs, weights, epilogue);
        Err(Error::Internal {
            op: "fusion",
            message: format!("{} takes no epilogue", self.class_name()),
        })
    }

    /// Lowers the layer with `epilogue` folded in ([`Layer::takes_epilogue`] layers only; the
    /// GPU takes epilogues whose function is a plain activation).
    fn lower_fused(&self, l: &mut Lowering<'_, '_>, epilogue: &Epilogue) -> Result<()> {
        let _ = (l, epilogue);
        Err(Error::Internal {
            op: "fusion",
            message: format!("{} takes no epilogue", self.class_name()),
        })
    }
}

/// Builds a layer from its Keras config.
pub(crate) type Constructor = fn(&Config<'_>) -> Result<Box<dyn Layer>>;

fn boxed<L: Layer + 'static>(layer: L) -> Result<Box<dyn Layer>> {
    Ok(Box::new(layer))
}

/// Keras layer classes wgcnn reads, and how.
pub(crate) const REGISTRY: &[(&str, Constructor)] = &[
    ("Activation", |c| boxed(ActivationLayer::from_config(c)?)),
    ("ActivityRegularization", |c| {
        boxed(Identity::from_config(c, "ActivityRegularization")?)
    }),
    ("Add", |c| boxed(Merge::from_config(c, MergeOp::Add)?)),
    ("AlphaDropout", |c| {
        boxed(Identity::from_config(c, "AlphaDropout")?)
    }),
    ("Average", |c| {
        boxed(Merge::from_config(c, MergeOp::Average)?)
    }),
    ("AveragePooling2D", |c| {
        boxed(AveragePooling2d::from_config(c)?)
    }),
    ("BatchNormalization", |c| {
        boxed(BatchNormalization::from_config(c)?)
    }),
    ("Concatenate", |c| boxed(Concatenate::from_config(c)?)),
    ("Conv2D", |c| boxed(Conv2d::from_config(c)?)),
    ("Conv2DTranspose", |c| {
        boxed(Conv2dTranspose::from_config(c)?)
    }),
    ("Cropping2D", |c| boxed(Cropping2d::from_config(c)?)),
    ("CustomScaleLayer", |c| {
        boxed(CustomScaleLayer::from_config(c)?)
    }),
    ("Dense", |c| boxed(Dense::from_config(c)?)),
    ("DepthwiseConv2D", |c| {
        boxed(DepthwiseConv2d::from_config(c)?)
    }),
    ("Dropout", |c| boxed(Identity::from_config(c, "Dropout")?)),
    ("ELU", |c| boxed(Elu::from_config(c)?)),
    ("Embedding", |c| boxed(Embedding::from_config(c)?)),
    ("Flatten", |c| boxed(Flatten::from_config(c)?)),
    ("GRU", |c| {
        boxed(Recurrent::from_config(c, RecurrentCell::Gru)?)
    }),
    ("GaussianDropout", |c| {
        boxed(Identity::from_config(c, "GaussianDropout")?)
    }),
    ("GaussianNoise", |c| {
        boxed(Identity::from_config(c, "GaussianNoise")?)
    }),
    ("GlobalAveragePooling2D", |c| {
        boxed(GlobalPooling2d::from_config(c, Reduce::Average)?)
    }),
    ("GlobalMaxPooling2D", |c| {
        boxed(GlobalPooling2d::from_config(c, Reduce::Max)?)
    }),
    ("LSTM", |c| {
        boxed(Recurrent::from_config(c, RecurrentCell::Lstm)?)
    }),
    ("LayerNormalization", |c| {
        boxed(LayerNormalization::from_config(c)?)
    }),
    ("LayerScale", |c| boxed(LayerScale::from_config(c)?)),
    ("LeakyReLU", |c| boxed(LeakyRelu::from_config(c)?)),
    ("MaxPooling2D", |c| boxed(MaxPooling2d::from_config(c)?)),
    ("Maximum", |c| {
        boxed(Merge::from_config(c, MergeOp::Maximum)?)
    }),
    ("Minimum", |c| {
        boxed(Merge::from_config(c, MergeOp::Minimum)?)
    }),
    ("Multiply", |c| {
        boxed(Merge::from_config(c, MergeOp::Multiply)?)
    }),
    ("Normalization", |c| boxed(Normalization::from_config(c)?)),
    ("PReLU", |c| boxed(Prelu::from_config(c)?)),
    ("Permute", |c| boxed(Permute::from_config(c)?)),
    ("RandomContrast", |c| {
        boxed(Identity::from_config(c, "RandomContrast")?)
    }),
    ("RandomCrop", |c| boxed(RandomCrop::from_config(c)?)),
    ("RandomFlip", |c| {
        boxed(Identity::from_config(c, "RandomFlip")?)
    }),
    ("RandomRotation", |c| {
        boxed(Identity::from_config(c, "RandomRotation")?)
    }),
    ("RandomTranslation", |c| {
        boxed(Identity::from_config(c, "RandomTranslation")?)
    }),
    ("RandomZoom", |c| {
        boxed(Identity::from_config(c, "RandomZoom")?)
    }),
    ("ReLU", |c| boxed(Relu::from_config(c)?)),
    ("Rescaling", |c| boxed(Rescaling::from_config(c)?)),
    ("Reshape", |c| boxed(Reshape::from_config(c)?)),
    ("SeparableConv2D", |c| {
        boxed(SeparableConv2d::from_config(c)?)
    }),
    ("Softmax", |c| boxed(Softmax::from_config(c)?)),
    ("SpatialDropout1D", |c| {
        boxed(Identity::from_config(c, "SpatialDropout1D")?)
    }),
    ("SpatialDropout2D", |c| {
        boxed(Identity::from_config(c, "SpatialDropout2D")?)
    }),
    ("SpatialDropout3D", |c| {
        boxed(Identity::from_config(c, "SpatialDropout3D")?)
    }),
    ("Subtract", |c| {
        boxed(Merge::from_config(c, MergeOp::Subtract)?)
    }),
    ("UpSampling2D", |c| boxed(UpSampling2d::from_config(c)?)),
    ("ZeroPadding2D", |c| boxed(ZeroPadding2d::from_config(c)?)),
];

/// Keras layer classes wgcnn describes but cannot compute ([`Layer::computes`] is false): their
/// shape and parameter rules make `summary` and `--explain` work on any model holding them.
pub(crate) const DESCRIBED: &[(&str, Constructor)] = &[
    ("Conv1D", |c| conv_nd(c, "Conv1D", ConvNdKind::Plain, 1)),
    ("Conv3D", |c| conv_nd(c, "Conv3D", ConvNdKind::Plain, 3)),
    ("Conv1DTranspose", |c| {
        conv_nd(c, "Conv1DTranspose", ConvNdKind::Transpose, 1)
    }),
    ("Conv3DTranspose", |c| {
        conv_nd(c, "Conv3DTranspose", ConvNdKind::Transpose, 3)
    }),
    ("SeparableConv1D", |c| {
        conv_nd(c, "SeparableConv1D", ConvNdKind::Separable, 1)
    }),
    ("DepthwiseConv1D", |c| {
        conv_nd(c, "DepthwiseConv1D", ConvNdKind::Depthwise, 1)
    }),
    ("MaxPooling1D", |c| pooling(c, "MaxPooling1D", 1)),
    ("MaxPooling3D", |c| pooling(c, "MaxPooling3D", 3)),
    ("AveragePooling1D", |c| pooling(c, "AveragePooling1D", 1)),
    ("AveragePooling3D", |c| pooling(c, "AveragePooling3D", 3)),
    ("GlobalMaxPooling1D", |c| global(c, "GlobalMaxPooling1D", 1)),
    ("GlobalMaxPooling3D", |c| global(c, "GlobalMaxPooling3D", 3)),
    ("GlobalAveragePooling1D", |c| {
        global(c, "GlobalAveragePooling1D", 1)
    }),
    ("GlobalAveragePooling3D", |c| {
        global(c, "GlobalAveragePooling3D", 3)
    }),
    ("ZeroPadding1D", |c| reshaping(c, "ZeroPadding1D", 1)),
    ("ZeroPadding3D", |c| reshaping(c, "ZeroPadding3D", 3)),
    ("Cropping1D", |c| reshaping(c, "Cropping1D", 1)),
    ("Cropping3D", |c| reshaping(c, "Cropping3D", 3)),
    ("UpSampling1D", |c| reshaping(c, "UpSampling1D", 1)),
    ("UpSampling3D", |c| reshaping(c, "UpSampling3D", 3)),
];

fn conv_nd(
    c: &Config<'_>,
    class: &'static str,
    kind: ConvNdKind,
    rank: usize,
) -> Result<Box<dyn Layer>> {
    boxed(ConvNd::from_config(c, class, kind, rank)?)
}

fn pooling(c: &Config<'_>, class: &'static str, rank: usize) -> Result<Box<dyn Layer>> {
    boxed(PoolingNd::from_config(c, class, rank)?)
}

fn global(c: &Config<'_>, class: &'static str, rank: usize) -> Result<Box<dyn Layer>> {
    boxed(GlobalPoolingNd::from_config(c, class, rank)?)
}

fn reshaping(c: &Config<'_>, class: &'static str, rank: usize) -> Result<Box<dyn Layer>> {
    boxed(ReshapingNd::from_config(c, class, rank)?)
}

/// Operations Keras records when a model applies `keras.ops` functions (or Python operators)
/// to symbolic tensors: serialized with a `keras.src.ops.*` module.
pub(crate) const OPS_REGISTRY: &[(&str, Constructor)] = &[
    ("Add", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Add, "Add")?)
    }),
    ("Subtract", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Subtract, "Subtract")?)
    }),
    ("Multiply", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Multiply, "Multiply")?)
    }),
    ("Divide", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Divide, "Divide")?)
    }),
    ("TrueDivide", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Divide, "TrueDivide")?)
    }),
    ("Maximum", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Maximum, "Maximum")?)
    }),
    ("Minimum", |c| {
        boxed(NumpyOp::from_config(c, NumpyOpKind::Minimum, "Minimum")?)
    }),
];

/// The constructor for a Keras class; `module` tells `keras.ops` operations (`x + 3.0`) from
/// layers of the same class name.
pub(crate) fn constructor(class: &str, module: Option<&str>) -> Option<Constructor> {
    let tables = match module {
        Some(m) if m.starts_with("keras.src.ops") => &[OPS_REGISTRY][..],
        _ => &[REGISTRY, DESCRIBED][..],
    };
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|(name, _)| *name == class)
        .map(|(_, c)| *c)
}

/// The last `--explain` line of a layer wgcnn knows only by its shape and parameter rules.
pub(crate) fn described_only_line(class: &str) -> String {
    format!("{class}: described only, wgcnn has no kernel to run it")
}

/// The error of a layer wgcnn knows only by its shape and parameter rules, asked to compute.
pub(crate) fn described_only(class: &'static str) -> Error {
    Error::CannotRun {
        what: class.to_string(),
        layers: vec![class.to_string()],
    }
}

/// Weight `i` of a layer, or an internal error (the model checks weights against
/// [`Layer::weights`] before anything runs, so this only guards against wgcnn bugs).
pub(crate) fn weight(weights: &[Tensor], i: usize) -> Result<&Tensor> {
    weights.get(i).ok_or_else(|| Error::Internal {
        op: "layer",
        message: format!("weight {i} missing ({} given)", weights.len()),
    })
}

/// Shape helpers shared by the layers.
pub(crate) mod shapes {
    use crate::error::{Error, Result};

    /// An [`Error::ShapeMismatch`] about a layer's input.
    pub fn mismatch(op: &'static str, expected: impl Into<String>, actual: &[usize]) -> Error {
        Error::ShapeMismatch {
            op,
            what: "input",
            expected: expected.into(),
            actual: actual.to_vec(),
        }
    }

    /// `(h, w, c)` of a per-example image shape.
    pub fn hwc(op: &'static str, input: &[usize]) -> Result<[usize; 3]> {
        input
            .try_into()
            .map_err(|_| mismatch(op, "(height, width, channels)", input))
    }

    /// The spatial extents and channels of a per-example shape with `rank` spatial axes (the
    /// 1D and 3D layers).
    pub fn spatial<'a>(
        op: &'static str,
        rank: usize,
        input: &'a [usize],
    ) -> Result<(&'a [usize], usize)> {
        match input.split_last() {
            Some((&c, spatial)) if spatial.len() == rank => Ok((spatial, c)),
            _ => Err(mismatch(
                op,
                format!("rank {} (spatial axes, then channels)", rank + 1),
                input,
            )),
        }
    }

    /// How `--explain` names the spatial axes of a 1D or 3D layer.
    pub fn axis_names(rank: usize) -> &'static [&'static str] {
        if rank == 1 {
            &["steps"]
        } else {
            &["depth", "height", "width"]
        }
    }

    /// The last axis (features/channels) of a per-example shape of rank ≥ 1.
    pub fn last(op: &'static str, input: &[usize]) -> Result<usize> {
        input
            .last()
            .copied()
            .ok_or_else(|| mismatch(op, "at least one feature axis", input))
    }

    /// The product of `dims`, checked.
    pub fn product(op: &'static str, dims: &[usize]) -> Result<usize> {
        crate::tensor::element_count(dims).ok_or(Error::Overflow { op, what: "size" })
    }

    /// `a · b + c`, checked (parameter counts).
    pub fn mul_add(op: &'static str, a: usize, b: usize, c: usize) -> Result<usize> {
        a.checked_mul(b)
            .and_then(|x| x.checked_add(c))
            .ok_or(Error::Overflow {
                op,
                what: "parameter count",
            })
    }
}
