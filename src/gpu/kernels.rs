//! The compute kernels: which exist, their WGSL sources as compiled, and the parameter block
//! the sliding-window kernels share.

/// Invocations per workgroup in every shader (`WG_SIZE` in `shaders/window.wgsl`).
pub(super) const WORKGROUP_SIZE: u64 = 64;

/// The compute kernels; `Kernel as usize` indexes [`SHADERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kernel {
    Conv2d,
    Conv2dBlocked,
    Conv2dTiled,
    Conv2dWide,
    Conv2dWideIn1,
    Conv2dWideOut1,
    Conv2dWideIn1Out1,
    MaxPool2d,
    AvgPool2d,
    ZeroPadding2d,
    Elementwise,
    Elementwise4,
    Softmax,
}

/// A shader's full source: shared preludes first, the op's own file last.
macro_rules! shader {
    ($($file:literal),+) => {
        concat!($(include_str!(concat!("../../shaders/", $file))),+)
    };
}

/// One compute shader as compiled: a name for labels and errors, its full WGSL source (shared
/// preludes first, the op's own file last) and the entry point the pipeline runs.
#[derive(Debug, Clone, Copy)]
pub struct Shader {
    /// The kernel's name, used as the pipeline label.
    pub name: &'static str,
    /// The full WGSL source.
    pub source: &'static str,
    /// The `@compute` function the pipeline runs.
    pub entry_point: &'static str,
}

const fn shader(name: &'static str, source: &'static str) -> Shader {
    Shader {
        name,
        source,
        entry_point: "main",
    }
}

/// One of the entry points of `shaders/conv2d_wide.wgsl`.
const fn wide(name: &'static str, entry_point: &'static str) -> Shader {
    Shader {
        name,
        source: shader!("window.wgsl", "activation.wgsl", "conv2d_wide.wgsl"),
        entry_point,
    }
}

/// Every compute shader as compiled, in the order of the internal `Kernel` enum. Public so that
/// a test can validate exactly these sources with naga.
pub const SHADERS: [Shader; 13] = [
    shader(
        "conv2d",
        shader!("window.wgsl", "activation.wgsl", "conv2d.wgsl"),
    ),
    shader(
        "conv2d_blocked",
        shader!("window.wgsl", "activation.wgsl", "conv2d_blocked.wgsl"),
    ),
    shader(
        "conv2d_tiled",
        shader!("window.wgsl", "activation.wgsl", "conv2d_tiled.wgsl"),
    ),
    wide("conv2d_wide", "main"),
    wide("conv2d_wide_in1", "main_in1"),
    wide("conv2d_wide_out1", "main_out1"),
    wide("conv2d_wide_in1_out1", "main_in1_out1"),
    shader("max_pool2d", shader!("window.wgsl", "max_pool2d.wgsl")),
    shader("avg_pool2d", shader!("window.wgsl", "avg_pool2d.wgsl")),
    shader(
        "zero_padding2d",
        shader!("window.wgsl", "zero_padding2d.wgsl"),
    ),
    shader(
        "elementwise",
        shader!("activation.wgsl", "elementwise.wgsl"),
    ),
    Shader {
        name: "elementwise4",
        source: shader!("activation.wgsl", "elementwise.wgsl"),
        entry_point: "main4",
    },
    shader("softmax", shader!("softmax.wgsl")),
];

/// Mirrors `Params` in `shaders/window.wgsl`, field for field.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct WindowParams {
    pub(super) batch: u32,
    pub(super) in_h: u32,
    pub(super) in_w: u32,
    pub(super) in_c: u32,
    pub(super) out_h: u32,
    pub(super) out_w: u32,
    pub(super) out_c: u32,
    pub(super) win_h: u32,
    pub(super) win_w: u32,
    pub(super) stride_h: u32,
    pub(super) stride_w: u32,
    pub(super) dil_h: u32,
    pub(super) dil_w: u32,
    pub(super) pad_top: u32,
    pub(super) pad_left: u32,
    pub(super) has_bias: u32,
    pub(super) activation: u32,
    pub(super) total: u32,
    pub(super) groups_x: u32,
    pub(super) _pad: u32,
}

/// A sliding-window op ready to dispatch: its uniform parameters and workgroup grid.
pub(super) struct WindowDispatch {
    pub(super) params: WindowParams,
    pub(super) total: usize,
    pub(super) grid: [u32; 2],
}

pub(super) fn pipeline(device: &wgpu::Device, shader: &Shader) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(shader.name),
        source: wgpu::ShaderSource::Wgsl(shader.source.into()),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(shader.name),
        layout: None,
        module: &module,
        entry_point: Some(shader.entry_point),
        compilation_options: Default::default(),
        cache: None,
    })
}
