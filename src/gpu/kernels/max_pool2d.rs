//! MaxPooling2D (`max_pool2d.wgsl`), and the emitter of both windowed pooling kernels (the
//! global forms have their own, `global_pool2d.rs`).

use std::sync::Arc;

use super::super::kernel::KernelDef;
use super::super::program::{Binding, ProgramBuilder, Value};
use super::window::{dispatch, plain_def};
use super::Kernel;
use crate::error::Result;
use crate::specs::Pool2dSpec;

pub(super) const MAX_POOL: KernelDef = plain_def(
    "max_pool2d",
    wgsl!("common.wgsl", "window.wgsl", "max_pool2d.wgsl"),
);

/// Which reduction a pooling window computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolKind {
    Max,
    Average,
}

/// Records a pooling of `spec` on per-example images `hwc` from `x` into `out` (which may be a
/// channel slice).
pub(crate) fn emit_pool2d(
    b: &mut ProgramBuilder<'_>,
    kind: PoolKind,
    spec: &Pool2dSpec,
    hwc: [usize; 3],
    x: Value,
    out: Value,
) -> Result<()> {
    let kernel = match kind {
        PoolKind::Max => Kernel::MaxPool2d,
        PoolKind::Average => Kernel::AvgPool2d,
    };
    let (offset, pitch) = b.layout(out);
    let spec = *spec;
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let [h, w, c] = hwc;
    let op = match kind {
        PoolKind::Max => "max_pool2d",
        PoolKind::Average => "average_pool2d",
    };
    let params = Arc::new(move |batch: usize| {
        let g = spec.plan([batch, h, w, c])?;
        dispatch(op, kernel, &(&g).into(), per_dim, |p| {
            p.out_pitch = pitch as u32;
            p.out_offset = offset as u32;
        })
    });
    b.dispatch(kernel, vec![Binding::Read(x), Binding::Write(out)], params);
    Ok(())
}
