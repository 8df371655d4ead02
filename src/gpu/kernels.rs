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
    MaxPool2d,
    AvgPool2d,
    ZeroPadding2d,
    Elementwise,
    Softmax,
}

/// A shader's full source: shared preludes first, the op's own file last.
macro_rules! shader {
    ($($file:literal),+) => {
        concat!($(include_str!(concat!("../../shaders/", $file))),+)
    };
}

/// Every compute shader as compiled, in the order of the internal `Kernel` enum: the shared preludes
/// (`window.wgsl`, `activation.wgsl`) followed by the op's own file. Public so that a test can
/// validate exactly these sources with naga.
pub const SHADERS: [(&str, &str); 8] = [
    (
        "conv2d",
        shader!("window.wgsl", "activation.wgsl", "conv2d.wgsl"),
    ),
    (
        "conv2d_blocked",
        shader!("window.wgsl", "activation.wgsl", "conv2d_blocked.wgsl"),
    ),
    (
        "conv2d_tiled",
        shader!("window.wgsl", "activation.wgsl", "conv2d_tiled.wgsl"),
    ),
    ("max_pool2d", shader!("window.wgsl", "max_pool2d.wgsl")),
    ("avg_pool2d", shader!("window.wgsl", "avg_pool2d.wgsl")),
    (
        "zero_padding2d",
        shader!("window.wgsl", "zero_padding2d.wgsl"),
    ),
    (
        "elementwise",
        shader!("activation.wgsl", "elementwise.wgsl"),
    ),
    ("softmax", shader!("softmax.wgsl")),
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

pub(super) fn pipeline(
    device: &wgpu::Device,
    name: &'static str,
    source: &str,
) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    })
}
