//! AveragePooling2D (`avg_pool2d.wgsl`); recorded by [`super::max_pool2d::emit_pool2d`].

use super::super::kernel::KernelDef;
use super::window::plain_def;

pub(super) const AVG_POOL: KernelDef = plain_def(
    "avg_pool2d",
    wgsl!("common.wgsl", "window.wgsl", "avg_pool2d.wgsl"),
);
