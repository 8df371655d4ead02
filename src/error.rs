//! The crate's one error type.
//!
//! Every failure a user can cause — a bad layer config, mismatched shapes, a tensor too large for the
//! device, a missing adapter, a GPU validation error — is a value of [`Error`], never a panic.

use std::path::PathBuf;

impl Error {
    /// Wraps `self` with the layer it happened in (`name (Class)`); a layer of a nested model
    /// gets the nested model's name in front of it, so the path reads outside in.
    pub(crate) fn in_layer(self, layer: impl Into<String>) -> Self {
        Error::Layer {
            layer: layer.into(),
            source: Box::new(self),
        }
    }

    /// The innermost error, owned (the single-op API has no layer to name).
    pub(crate) fn into_root(self) -> Error {
        match self {
            Error::Layer { source, .. } => source.into_root(),
            e => e,
        }
    }

    /// The innermost error, past any [`Error::Layer`] context.
    pub fn root(&self) -> &Error {
        match self {
            Error::Layer { source, .. } => source.root(),
            e => e,
        }
    }
}

/// `op: ` in front of an [`Error::InvalidConfig`], except for a model layer's config (`op`
/// `config`), which its [`Error::Layer`] context names instead.
fn op_prefix(op: &str) -> String {
    if op == "config" {
        String::new()
    } else {
        format!("{op}: ")
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in wgcnn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layer hyper-parameter is invalid on its own (zero filters, zero stride, ...), or a
    /// combination Keras itself refuses (dilation > 1 together with stride > 1). A model
    /// layer's (`op` `config`) reads `name (Class): invalid config: …` once wrapped in
    /// [`Error::Layer`].
    #[error("{}invalid config: {reason}", op_prefix(op))]
    InvalidConfig {
        /// The op, e.g. `conv2d`.
        op: &'static str,
        /// What is wrong, in words.
        reason: String,
    },
    /// A command or call was given arguments that do not fit the model (an input name it
    /// lacks, an archive member missing, a file given twice): says which and what to give.
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The command or call, e.g. `run`.
        op: &'static str,
        /// What is wrong and what to give instead.
        reason: String,
    },

    /// The layer would produce an empty output on this input (e.g. 'valid' with a window larger
    /// than the input).
    #[error(
        "{op}: output would be empty along the {axis} axis: input size {input} is smaller than \
         the effective window {window} with padding 'valid'"
    )]
    EmptyOutput {
        /// The op, e.g. `conv2d`.
        op: &'static str,
        /// `height` or `width`.
        axis: &'static str,
        /// The input extent on that axis.
        input: usize,
        /// The effective window extent, `dilation·(kernel−1)+1`.
        window: usize,
    },

    /// A tensor does not have the shape the op needs.
    #[error("{op}: {what} has shape {actual:?}, expected {expected}")]
    ShapeMismatch {
        /// The op, e.g. `conv2d`.
        op: &'static str,
        /// Which tensor: `input`, `kernel`, `bias`.
        what: &'static str,
        /// The expected shape, in words (it may contain free dimensions).
        expected: String,
        /// The shape that was given.
        actual: Vec<usize>,
    },

    /// A size computation overflowed `usize` (absurdly large shapes).
    #[error("{op}: size of {what} overflows")]
    Overflow {
        /// The op or context.
        op: &'static str,
        /// What was being sized.
        what: &'static str,
    },

    /// A tensor's data length does not match its shape.
    #[error("tensor data has {len} values but shape {shape:?} needs {expected}")]
    DataLength {
        /// The shape given.
        shape: Vec<usize>,
        /// The number of values the shape implies.
        expected: usize,
        /// The number of values given.
        len: usize,
    },

    /// No adapter could be found (or none matched `WGPU_ADAPTER_NAME` or
    /// `WGCNN_ADAPTER_PCI_BUS_ID`).
    #[error("no GPU adapter found: {detail}")]
    NoAdapter {
        /// What was tried and what exists.
        detail: String,
    },

    /// The adapter exists but cannot run wgcnn (no compute shaders, or requested limits it lacks).
    #[error("adapter '{adapter}' is unsupported: {reason}")]
    UnsupportedAdapter {
        /// Adapter name.
        adapter: String,
        /// Why.
        reason: String,
    },

    /// Creating the logical device failed.
    #[error("could not open the GPU device: {0}")]
    RequestDevice(String),

    /// A tensor of the CPU backends would exceed the CPU memory limit (the machine's physical
    /// memory unless `WGCNN_CPU_MEMORY_LIMIT` says otherwise). Checked before anything is
    /// allocated.
    #[error(
        "{what} needs {needed} bytes, more than the CPU memory limit of {limit} bytes \
         ({limit_source}{})",
        memory_limit_hint()
    )]
    MemoryLimit {
        /// What is too large.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// The limit in bytes.
        limit: u64,
        /// Where the limit comes from.
        limit_source: &'static str,
    },

    /// A buffer or dispatch would exceed one of the device's limits. Checked before anything is
    /// allocated.
    #[error("{op}: {what} needs {needed} but the device limit {limit_name} is {limit}")]
    LimitExceeded {
        /// The op.
        op: &'static str,
        /// What is too large (`input buffer`, `workgroups`...).
        what: String,
        /// The amount needed (bytes or count).
        needed: u64,
        /// The name of the wgpu limit, as in `wgpu::Limits`.
        limit_name: &'static str,
        /// Its value on this device.
        limit: u64,
    },

    /// wgpu reported a validation error (a wgcnn bug or an unsupported adapter).
    #[error("{op}: GPU validation error: {message}")]
    GpuValidation {
        /// The op.
        op: &'static str,
        /// wgpu's message.
        message: String,
    },

    /// The device ran out of memory.
    #[error("{op}: GPU out of memory")]
    GpuOutOfMemory {
        /// The op.
        op: &'static str,
    },

    /// wgpu reported an internal error (driver or system limit).
    #[error("{op}: GPU internal error: {message}")]
    GpuInternal {
        /// The op.
        op: &'static str,
        /// wgpu's message.
        message: String,
    },

    /// The device was lost (driver reset, GPU removed, ...).
    #[error("GPU device lost: {reason}")]
    DeviceLost {
        /// wgpu's reason and message.
        reason: String,
    },

    /// The GPU did not finish in time.
    #[error("{op}: timed out after {seconds} s waiting for the GPU")]
    Timeout {
        /// The op.
        op: &'static str,
        /// The timeout that expired.
        seconds: u64,
    },

    /// An array given for a model input has the wrong shape; `expected` says what it should
    /// be, and how to fix a common slip (NCHW data, a missing batch axis).
    #[error("input '{input}': has shape {actual:?}, expected {expected}")]
    InputShape {
        /// The model input's name.
        input: String,
        /// The shape expected, `(batch ≥ 1, …)`, with any hint.
        expected: String,
        /// The shape given.
        actual: Vec<usize>,
    },

    /// A model's architecture cannot be used: unknown option, a broken graph (a reference to a
    /// layer that does not exist, a cycle), a corrupt archive, a file that is no Keras model.
    #[error("{layer}: {message}")]
    ModelConfig {
        /// What it is about: the layer (`name (Class)`), the file, or `graph`.
        layer: String,
        /// What is wrong.
        message: String,
    },

    /// A model's weights are missing or do not fit its layers.
    #[error("{layer}: {message}")]
    ModelWeights {
        /// The layer concerned.
        layer: String,
        /// What is wrong.
        message: String,
    },

    /// An error with what it is about in front: a layer of a model (`name (Class)`), a nested
    /// model, or the model file ([`crate::Model::load`]), outermost first. The source keeps its
    /// type: a bad Conv2D config is still an [`Error::InvalidConfig`] ([`Error::root`]).
    #[error("{layer}: {source}")]
    Layer {
        /// What it is about: a layer as `name (Class)`, a model, or a file.
        layer: String,
        /// What went wrong in it.
        #[source]
        source: Box<Error>,
    },

    /// What was asked needs a cargo feature this build of wgcnn was compiled without (the
    /// fast CPU backend and the blocking GPU calls need `native`, which a browser build leaves
    /// out).
    #[error("{what} needs wgcnn's `{feature}` feature, which this build leaves out")]
    FeatureDisabled {
        /// The feature, e.g. `native`.
        feature: &'static str,
        /// What needs it, and what to use instead.
        what: &'static str,
    },

    /// Layers wgcnn describes (`summary`, `--explain`) but cannot compute: built-in Keras
    /// layers it has no kernels for (Conv3D, the 1D layers, ...) and classes it does not know
    /// (custom layers).
    #[error(
        "{what} cannot run: wgcnn cannot compute {}; `summary` and `summary --explain` still \
         describe it",
        layers.join(", ")
    )]
    CannotRun {
        /// The model (`model 'name'`) or the layer class.
        what: String,
        /// The layers, labelled `name (Class)`.
        layers: Vec<String>,
    },

    /// A layer without GPU kernels (one defined outside wgcnn) in a model compiled for the GPU.
    #[error(
        "{layer} has no GPU lowering (a layer defined outside wgcnn runs on the reference and CPU \
         backends only)"
    )]
    NoGpuLowering {
        /// The layer's class name.
        layer: String,
    },

    /// An internal consistency check failed: a wgcnn bug, reported instead of a panic.
    #[error("{op}: internal error: {message} (please report this as a wgcnn bug)")]
    Internal {
        /// The op.
        op: &'static str,
        /// What went wrong.
        message: String,
    },

    /// A `.npy` file is malformed or not float32 / C order.
    #[error("{path}: {message}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// An image file cannot be used as a model input: not a readable PNG or JPEG, a kind
    /// wgcnn does not read (16-bit, CMYK), or not the size the model takes.
    #[error("{path}: {message}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// How to change the CPU memory limit, where a process has an environment (not in a browser).
fn memory_limit_hint() -> &'static str {
    if cfg!(target_arch = "wasm32") {
        ""
    } else {
        "; set WGCNN_CPU_MEMORY_LIMIT=BYTES to change it"
    }
}
