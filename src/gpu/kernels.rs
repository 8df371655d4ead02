//! The compute kernels: which exist, the WGSL each one compiles (shared preludes first, the
//! op's own file last), its entry point, workgroup size and uniform block. Everything about a
//! kernel is looked up by `match` on [`Kernel`], so nothing depends on the order of a list.

/// Invocations per workgroup: passed to every shader as the `WG_SIZE` pipeline constant.
pub(crate) const WORKGROUP_SIZE: u32 = 64;

/// Output positions per invocation in `shaders/conv2d_blocked.wgsl` (`RM`).
pub(crate) const BLOCK_ROWS: usize = 4;
/// Output positions per invocation in `shaders/conv2d_wide.wgsl` (`RM`).
pub(crate) const WIDE_ROWS: usize = 8;
/// Filters per invocation in `shaders/conv2d_wide.wgsl` (`4 · FN4`).
pub(crate) const WIDE_FILTERS: usize = 16;
/// Output positions and filters per workgroup tile in `shaders/conv2d_tiled.wgsl` (`TM`).
pub(crate) const TILE: usize = 32;

/// Every compute kernel wgcnn dispatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kernel {
    /// Direct Conv2D, one output per invocation; the only one with `groups`.
    Conv2d,
    /// Implicit-GEMM Conv2D, 4 positions × 4 filters per invocation.
    Conv2dBlocked,
    /// Implicit-GEMM Conv2D with 32 × 32 workgroup tiles.
    Conv2dTiled,
    /// Implicit-GEMM Conv2D, 8 positions × 16 filters, vec4 input and output.
    Conv2dWide,
    /// [`Kernel::Conv2dWide`] reading one input channel at a time.
    Conv2dWideIn1,
    /// [`Kernel::Conv2dWide`] writing one float at a time.
    Conv2dWideOut1,
    /// [`Kernel::Conv2dWide`] reading and writing one value at a time.
    Conv2dWideIn1Out1,
    /// MaxPooling2D and GlobalMaxPooling2D.
    MaxPool2d,
    /// AveragePooling2D and GlobalAveragePooling2D.
    AvgPool2d,
    /// ZeroPadding2D and Cropping2D.
    Border2d,
    /// Element-wise layers, one value per invocation.
    Unary,
    /// Element-wise layers, one vec4 per invocation.
    Unary4,
    /// Softmax and log-softmax over the last axis.
    Softmax,
    /// Broadcasting element-wise binary ops (merges, keras.ops arithmetic, PReLU).
    Binary,
    /// Rows of one tensor into a slice of another's rows (Concatenate).
    Copy,
    /// DepthwiseConv2D, one output value per invocation.
    DepthwiseConv2d,
    /// DepthwiseConv2D, four channels per invocation (depth multiplier 1).
    DepthwiseConv2d4,
    /// Conv2DTranspose, one output value per invocation.
    Conv2dTranspose,
    /// UpSampling2D (nearest, bilinear).
    Resize2d,
    /// LayerNormalization over the last axis.
    LayerNorm,
    /// Embedding lookups.
    Embedding,
    /// One time step of an LSTM or GRU.
    Recurrent,
    /// Dense with the reduction split into slices: the partial sums.
    DenseSplitK,
    /// Dense with the reduction split into slices: adding the slices up.
    DenseSplitKReduce,
}

/// A shader's full source: shared preludes first, the op's own file last.
macro_rules! wgsl {
    ($($file:literal),+) => {
        concat!($(include_str!(concat!("../../shaders/", $file))),+)
    };
}

/// One compute shader as compiled: a name for labels and errors, its full WGSL source and the
/// entry point the pipeline runs.
#[derive(Debug, Clone, Copy)]
pub struct Shader {
    /// The kernel's name, used as the pipeline label.
    pub name: &'static str,
    /// The full WGSL source.
    pub source: &'static str,
    /// The `@compute` function the pipeline runs.
    pub entry_point: &'static str,
}

const CONV: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "conv2d.wgsl"
);
const CONV_BLOCKED: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "conv2d_blocked.wgsl"
);
const CONV_TILED: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "conv2d_tiled.wgsl"
);
const CONV_WIDE: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "conv2d_wide.wgsl"
);
const MAX_POOL: &str = wgsl!("common.wgsl", "window.wgsl", "max_pool2d.wgsl");
const AVG_POOL: &str = wgsl!("common.wgsl", "window.wgsl", "avg_pool2d.wgsl");
const BORDER: &str = wgsl!("common.wgsl", "window.wgsl", "border2d.wgsl");
const UNARY: &str = wgsl!("common.wgsl", "activation.wgsl", "unary.wgsl");
const SOFTMAX: &str = wgsl!("common.wgsl", "softmax.wgsl");
const BINARY: &str = wgsl!("common.wgsl", "activation.wgsl", "binary.wgsl");
const COPY: &str = wgsl!("common.wgsl", "copy.wgsl");
const TRANSPOSE: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "conv2d_transpose.wgsl"
);
const RESIZE: &str = wgsl!("common.wgsl", "resize2d.wgsl");
const LAYER_NORM: &str = wgsl!("common.wgsl", "layer_norm.wgsl");
const EMBEDDING: &str = wgsl!("common.wgsl", "embedding.wgsl");
const SPLIT_K: &str = wgsl!("common.wgsl", "activation.wgsl", "dense_splitk.wgsl");
const RECURRENT: &str = wgsl!("common.wgsl", "activation.wgsl", "recurrent.wgsl");
const DEPTHWISE: &str = wgsl!(
    "common.wgsl",
    "window.wgsl",
    "activation.wgsl",
    "depthwise_conv2d.wgsl"
);

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 24] = [
        Kernel::Conv2d,
        Kernel::Conv2dBlocked,
        Kernel::Conv2dTiled,
        Kernel::Conv2dWide,
        Kernel::Conv2dWideIn1,
        Kernel::Conv2dWideOut1,
        Kernel::Conv2dWideIn1Out1,
        Kernel::MaxPool2d,
        Kernel::AvgPool2d,
        Kernel::Border2d,
        Kernel::Unary,
        Kernel::Unary4,
        Kernel::Softmax,
        Kernel::Binary,
        Kernel::Copy,
        Kernel::DepthwiseConv2d,
        Kernel::DepthwiseConv2d4,
        Kernel::Conv2dTranspose,
        Kernel::Resize2d,
        Kernel::LayerNorm,
        Kernel::Embedding,
        Kernel::Recurrent,
        Kernel::DenseSplitK,
        Kernel::DenseSplitKReduce,
    ];

    /// The shader this kernel runs.
    pub fn shader(self) -> Shader {
        let (name, source, entry_point) = match self {
            Kernel::Conv2d => ("conv2d", CONV, "main"),
            Kernel::Conv2dBlocked => ("conv2d_blocked", CONV_BLOCKED, "main"),
            Kernel::Conv2dTiled => ("conv2d_tiled", CONV_TILED, "main"),
            Kernel::Conv2dWide => ("conv2d_wide", CONV_WIDE, "main"),
            Kernel::Conv2dWideIn1 => ("conv2d_wide_in1", CONV_WIDE, "main_in1"),
            Kernel::Conv2dWideOut1 => ("conv2d_wide_out1", CONV_WIDE, "main_out1"),
            Kernel::Conv2dWideIn1Out1 => ("conv2d_wide_in1_out1", CONV_WIDE, "main_in1_out1"),
            Kernel::MaxPool2d => ("max_pool2d", MAX_POOL, "main"),
            Kernel::AvgPool2d => ("avg_pool2d", AVG_POOL, "main"),
            Kernel::Border2d => ("border2d", BORDER, "main"),
            Kernel::Unary => ("unary", UNARY, "main"),
            Kernel::Unary4 => ("unary4", UNARY, "main4"),
            Kernel::Softmax => ("softmax", SOFTMAX, "main"),
            Kernel::Binary => ("binary", BINARY, "main"),
            Kernel::Copy => ("copy", COPY, "main"),
            Kernel::DepthwiseConv2d => ("depthwise_conv2d", DEPTHWISE, "main"),
            Kernel::DepthwiseConv2d4 => ("depthwise_conv2d4", DEPTHWISE, "main4"),
            Kernel::Conv2dTranspose => ("conv2d_transpose", TRANSPOSE, "main"),
            Kernel::Resize2d => ("resize2d", RESIZE, "main"),
            Kernel::LayerNorm => ("layer_norm", LAYER_NORM, "main"),
            Kernel::Embedding => ("embedding", EMBEDDING, "main"),
            Kernel::Recurrent => ("recurrent", RECURRENT, "main"),
            Kernel::DenseSplitK => ("dense_splitk", SPLIT_K, "main"),
            Kernel::DenseSplitKReduce => ("dense_splitk_reduce", SPLIT_K, "reduce"),
        };
        Shader {
            name,
            source,
            entry_point,
        }
    }

    /// The size in bytes of the kernel's uniform block (binding 0), from its `Pod` mirror.
    pub fn params_size(self) -> usize {
        match self {
            Kernel::Conv2d
            | Kernel::Conv2dBlocked
            | Kernel::Conv2dTiled
            | Kernel::Conv2dWide
            | Kernel::Conv2dWideIn1
            | Kernel::Conv2dWideOut1
            | Kernel::Conv2dWideIn1Out1
            | Kernel::MaxPool2d
            | Kernel::AvgPool2d
            | Kernel::Border2d
            | Kernel::DepthwiseConv2d
            | Kernel::DepthwiseConv2d4
            | Kernel::Conv2dTranspose => std::mem::size_of::<WindowParams>(),
            Kernel::Resize2d => std::mem::size_of::<ResizeParams>(),
            Kernel::LayerNorm => std::mem::size_of::<LayerNormParams>(),
            Kernel::Embedding => std::mem::size_of::<EmbeddingParams>(),
            Kernel::Recurrent => std::mem::size_of::<RecurrentParams>(),
            Kernel::DenseSplitK | Kernel::DenseSplitKReduce => std::mem::size_of::<SplitKParams>(),
            Kernel::Unary | Kernel::Unary4 => std::mem::size_of::<UnaryParams>(),
            Kernel::Softmax => std::mem::size_of::<SoftmaxParams>(),
            Kernel::Binary => std::mem::size_of::<BinaryParams>(),
            Kernel::Copy => std::mem::size_of::<CopyParams>(),
        }
    }

    /// Constants the host's dispatch arithmetic assumes about the shader's structure (block and
    /// tile shapes written into the WGSL as `const`s); a test checks each against the source.
    pub fn structure(self) -> &'static [(&'static str, usize)] {
        match self {
            Kernel::Conv2dBlocked => &[("RM", BLOCK_ROWS)],
            Kernel::Conv2dWide
            | Kernel::Conv2dWideIn1
            | Kernel::Conv2dWideOut1
            | Kernel::Conv2dWideIn1Out1 => &[("RM", WIDE_ROWS), ("FN4", WIDE_FILTERS / 4)],
            Kernel::Conv2dTiled => &[("TM", TILE), ("TN4", TILE / 4)],
            _ => &[],
        }
    }

    /// The pipeline constants the kernel is compiled with.
    pub fn constants(self) -> Vec<(&'static str, f64)> {
        vec![("WG_SIZE", f64::from(WORKGROUP_SIZE))]
    }
}

/// Mirrors `Params` in `shaders/window.wgsl`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct WindowParams {
    pub batch: u32,
    pub in_h: u32,
    pub in_w: u32,
    pub in_c: u32,
    pub out_h: u32,
    pub out_w: u32,
    pub out_c: u32,
    pub win_h: u32,
    pub win_w: u32,
    pub stride_h: u32,
    pub stride_w: u32,
    pub dil_h: u32,
    pub dil_w: u32,
    pub pad_top: i32,
    pub pad_left: i32,
    pub has_bias: u32,
    pub activation: u32,
    pub total: u32,
    pub groups_x: u32,
    pub group_in: u32,
    pub group_out: u32,
    pub out_pitch: u32,
    pub out_offset: u32,
    pub _pad: u32,
}

/// Mirrors `Params` in `shaders/unary.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct UnaryParams {
    pub total: u32,
    pub channels: u32,
    pub mode: u32,
    pub activation: u32,
    pub per_channel: u32,
    pub has_max: u32,
    pub max_value: f32,
    pub negative_slope: f32,
    pub threshold: f32,
    pub alpha: f32,
    pub scalar_scale: f32,
    pub scalar_shift: f32,
    pub groups_x: u32,
    pub out_pitch: u32,
    pub out_offset: u32,
    pub has_scalar: u32,
}

/// Mirrors `Params` in `shaders/softmax.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct SoftmaxParams {
    pub rows: u32,
    pub cols: u32,
    pub groups_x: u32,
    pub log: u32,
    pub inner: u32,
    pub _pad: [u32; 3],
}

/// Mirrors `Params` in `shaders/binary.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct BinaryParams {
    pub total: u32,
    pub rank: u32,
    pub op: u32,
    pub groups_x: u32,
    pub accumulate: u32,
    pub divisor: f32,
    pub a_offset: u32,
    pub activation: u32,
    pub dims: [u32; 8],
    pub a_strides: [u32; 8],
    pub b_strides: [u32; 8],
}

/// Mirrors `Params` in `shaders/copy.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct CopyParams {
    pub total: u32,
    pub in_row: u32,
    pub out_row: u32,
    pub offset: u32,
    pub groups_x: u32,
    pub _pad: [u32; 3],
}

/// Mirrors `Params` in `shaders/resize2d.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct ResizeParams {
    pub total: u32,
    pub in_h: u32,
    pub in_w: u32,
    pub channels: u32,
    pub out_h: u32,
    pub out_w: u32,
    pub bilinear: u32,
    pub groups_x: u32,
}

/// Mirrors `Params` in `shaders/layer_norm.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct LayerNormParams {
    pub rows: u32,
    pub cols: u32,
    pub groups_x: u32,
    pub epsilon: f32,
    pub has_gamma: u32,
    pub has_beta: u32,
    pub rms: u32,
    pub _pad: u32,
}

/// Mirrors `Params` in `shaders/embedding.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct EmbeddingParams {
    pub total: u32,
    pub dim: u32,
    pub vocab: u32,
    pub groups_x: u32,
}

/// Mirrors `Params` in `shaders/recurrent.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct RecurrentParams {
    pub batch: u32,
    pub steps: u32,
    pub units: u32,
    pub step: u32,
    pub t: u32,
    pub kind: u32,
    pub activation: u32,
    pub recurrent_activation: u32,
    pub total: u32,
    pub groups_x: u32,
    pub has_recurrent_bias: u32,
    pub _pad: u32,
}

/// Mirrors `Params` in `shaders/dense_splitk.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct SplitKParams {
    pub rows: u32,
    pub k: u32,
    pub units: u32,
    pub slices: u32,
    pub slice_len: u32,
    pub groups_x: u32,
    pub total: u32,
    pub has_bias: u32,
    pub activation: u32,
    pub out_pitch: u32,
    pub out_offset: u32,
    pub _pad: u32,
}

/// Compiles `kernel`'s pipeline on `device`.
pub(crate) fn pipeline(device: &wgpu::Device, kernel: Kernel) -> wgpu::ComputePipeline {
    let shader = kernel.shader();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(shader.name),
        source: wgpu::ShaderSource::Wgsl(shader.source.into()),
    });
    let constants = kernel.constants();
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(shader.name),
        layout: None,
        module: &module,
        entry_point: Some(shader.entry_point),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &constants,
            ..Default::default()
        },
        cache: None,
    })
}
