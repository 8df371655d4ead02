//! Every compute kernel wgcnn dispatches, one Rust file each beside its `.wgsl`: the file
//! defines the kernel's uniform block (`params!`), its [`KernelDef`]s (entry points, bindings,
//! code tables, tile shapes) and the emitter that records its dispatches. `common.wgsl`,
//! `window.wgsl`, `activation.wgsl` and `row_reduce.wgsl` are preludes shared by several
//! kernels (the Rust side of the last three: `window.rs`, `activation.rs`, `row_reduce.rs`;
//! `row_reduce_subgroup.wgsl` is the last one on subgroup operations);
//! `residual4.wgsl` is the vec4 Conv2D kernels' fused residual.
//!
//! Adding a kernel: `name.wgsl` and `name.rs` (its `KernelDef`, `params!` block and emitter),
//! and one line in the `kernels!` list below. `contract.rs` then checks it against its WGSL.

use super::kernel::KernelDef;

mod activation;
#[cfg(test)]
mod contract;
#[cfg(all(test, feature = "native"))]
mod long_rows;
#[cfg(all(test, feature = "native"))]
mod residual;
pub(crate) mod row_reduce;
#[cfg(all(test, feature = "native"))]
mod test_support;
#[cfg(test)]
mod translate;
mod window;
#[cfg(all(test, feature = "native"))]
mod zero_padded;

/// A kernel's WGSL from files beside this one: shared preludes first, its own file last.
macro_rules! wgsl {
    ($($file:literal),+ $(,)?) => {
        concat!($(include_str!($file)),+)
    };
}

/// The kernel list: per kernel file, its variants and their [`KernelDef`]s. Declares the
/// files as modules, the [`Kernel`] enum and its lookup.
macro_rules! kernels {
    ($($module:ident { $($(#[$doc:meta])* $variant:ident => $def:ident),+ $(,)? })*) => {
        $(pub(crate) mod $module;)*

        /// Every compute kernel wgcnn dispatches.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub(crate) enum Kernel {
            $($($(#[$doc])* $variant,)+)*
        }

        impl Kernel {
            /// Every kernel.
            pub(crate) const ALL: &'static [Kernel] = &[$($(Kernel::$variant,)+)*];

            /// What the host knows about the kernel.
            pub(crate) fn def(self) -> &'static KernelDef {
                match self {
                    $($(Kernel::$variant => &$module::$def,)+)*
                }
            }
        }
    };
}

kernels! {
    conv2d {
        /// Direct Conv2D, one output per invocation; the only one with `groups`.
        Conv2d => DIRECT,
    }
    conv2d_blocked {
        /// Implicit-GEMM Conv2D, 4 positions × 4 filters per invocation.
        Conv2dBlocked => BLOCKED,
    }
    conv2d_tiled {
        /// Implicit-GEMM Conv2D with 32 × 32 workgroup tiles.
        Conv2dTiled => TILED,
    }
    conv2d_tiled64 {
        /// Implicit-GEMM Conv2D with 64 × 64 workgroup tiles, 8 × 8 outputs per invocation.
        Conv2dTiled64 => TILED64,
    }
    conv2d_wide {
        /// Implicit-GEMM Conv2D, 8 positions × 16 filters, vec4 input and output.
        Conv2dWide => WIDE,
        /// [`Kernel::Conv2dWide`] reading one input channel at a time.
        Conv2dWideIn1 => WIDE_IN1,
        /// [`Kernel::Conv2dWide`] writing one float at a time.
        Conv2dWideOut1 => WIDE_OUT1,
        /// [`Kernel::Conv2dWide`] reading and writing one value at a time.
        Conv2dWideIn1Out1 => WIDE_IN1_OUT1,
    }
    max_pool2d {
        /// MaxPooling2D.
        MaxPool2d => MAX_POOL,
    }
    avg_pool2d {
        /// AveragePooling2D.
        AvgPool2d => AVG_POOL,
    }
    global_pool2d {
        /// GlobalAveragePooling2D and GlobalMaxPooling2D: runs of pixels per channel.
        GlobalPool2d => RUNS,
        /// GlobalAveragePooling2D and GlobalMaxPooling2D: the runs combined.
        GlobalPool2dReduce => COMBINE,
    }
    border2d {
        /// ZeroPadding2D and Cropping2D.
        Border2d => BORDER,
    }
    unary {
        /// Element-wise layers, one value per invocation.
        Unary => UNARY,
        /// Element-wise layers, one vec4 per invocation.
        Unary4 => UNARY4,
    }
    softmax {
        /// Softmax and log-softmax over an axis, an invocation per row.
        Softmax => SOFTMAX,
        /// Softmax and log-softmax over an axis, a workgroup per row.
        SoftmaxRows => SOFTMAX_ROWS,
        /// [`Kernel::SoftmaxRows`] reducing with subgroup operations.
        SoftmaxRowsSubgroup => SOFTMAX_ROWS_SUBGROUP,
    }
    binary {
        /// Broadcasting element-wise binary ops (merges, keras.ops arithmetic, PReLU).
        Binary => BINARY,
    }
    copy {
        /// Rows of one tensor into a slice of another's rows (Concatenate).
        Copy => COPY,
    }
    depthwise_conv2d {
        /// DepthwiseConv2D, one output value per invocation.
        DepthwiseConv2d => DEPTHWISE,
        /// DepthwiseConv2D, four channels per invocation (depth multiplier 1).
        DepthwiseConv2d4 => DEPTHWISE4,
    }
    conv2d_transpose {
        /// Conv2DTranspose, one output value per invocation.
        Conv2dTranspose => TRANSPOSE,
    }
    resize2d {
        /// UpSampling2D (nearest, bilinear).
        Resize2d => RESIZE,
    }
    layer_norm {
        /// LayerNormalization over the last axis, an invocation per row.
        LayerNorm => LAYER_NORM,
        /// LayerNormalization over the last axis, a workgroup per row.
        LayerNormRows => LAYER_NORM_ROWS,
        /// [`Kernel::LayerNormRows`] reducing with subgroup operations.
        LayerNormRowsSubgroup => LAYER_NORM_ROWS_SUBGROUP,
    }
    embedding {
        /// Embedding lookups.
        Embedding => EMBEDDING,
    }
    recurrent {
        /// One time step of an LSTM or GRU.
        Recurrent => RECURRENT,
    }
    dense_splitk {
        /// Dense with the reduction split into slices: the partial sums.
        DenseSplitK => SPLIT_K,
        /// Dense with the reduction split into slices: adding the slices up.
        DenseSplitKReduce => SPLIT_K_REDUCE,
    }
}

pub(crate) use binary::{emit_binary, emit_binary_then, emit_gather, BinaryOp, Operand};
pub(crate) use border2d::emit_border2d;
pub use conv2d::ConvVariant;
pub(crate) use conv2d::{emit_conv2d, ConvWeights};
pub(crate) use conv2d_transpose::emit_conv2d_transpose;
pub(crate) use copy::emit_copy;
pub(crate) use dense_splitk::emit_dense;
pub(crate) use depthwise_conv2d::emit_depthwise;
pub(crate) use embedding::emit_embedding;
pub(crate) use global_pool2d::emit_global_pool2d;
pub(crate) use layer_norm::emit_layer_norm;
pub(crate) use max_pool2d::{emit_pool2d, PoolKind};
pub(crate) use recurrent::{emit_steps, Cell, Steps};
pub(crate) use resize2d::emit_resize2d;
pub(crate) use softmax::{emit_softmax, emit_softmax_strided};
pub(crate) use unary::{emit_unary, Unary};

impl Kernel {
    /// Whether the kernel gathers its input window by window with bounds checks, so that a
    /// zero-padded value ([`super::program::ProgramBuilder::zero_padded`]) reads as its
    /// zeros: the convolutions (whose emitters widen the window's padding by the value's).
    pub(crate) fn gathers_zero_padding(self) -> bool {
        matches!(
            self,
            Kernel::Conv2d
                | Kernel::Conv2dBlocked
                | Kernel::Conv2dTiled
                | Kernel::Conv2dTiled64
                | Kernel::Conv2dWide
                | Kernel::Conv2dWideIn1
                | Kernel::Conv2dWideOut1
                | Kernel::Conv2dWideIn1Out1
                | Kernel::DepthwiseConv2d
                | Kernel::DepthwiseConv2d4
        )
    }
}

/// Compiles `kernel`'s pipeline on `device`, through `cache` where the device keeps one.
pub(crate) fn pipeline(
    device: &wgpu::Device,
    kernel: Kernel,
    cache: Option<&wgpu::PipelineCache>,
) -> wgpu::ComputePipeline {
    let def = kernel.def();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(def.name),
        source: wgpu::ShaderSource::Wgsl(def.source.into()),
    });
    let constants = def.constants();
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(def.name),
        layout: None,
        module: &module,
        entry_point: Some(def.entry_point),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &constants,
            ..Default::default()
        },
        cache,
    })
}
