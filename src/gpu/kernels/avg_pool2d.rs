//! AveragePooling2D (`avg_pool2d.wgsl`); recorded by [`super::max_pool2d::emit_pool2d`].

use super::super::kernel::{Coverage, KernelDef};
use super::max_pool2d::SLOTS;
use super::window::WindowParams;

pub(super) const AVG_POOL: KernelDef = KernelDef {
    name: "avg_pool2d",
    source: wgsl!("common.wgsl", "window.wgsl", "avg_pool2d.wgsl"),
    entry_point: "main",
    params: WindowParams::LAYOUT,
    slots: SLOTS,
    structure: &[],
    coverage: Coverage::PerValue,
    codes: &[],
};
