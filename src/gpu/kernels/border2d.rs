//! ZeroPadding2D and Cropping2D (`border2d.wgsl`): one kernel, a 1×1 window with signed
//! leading padding.

use std::sync::Arc;

use super::super::kernel::KernelDef;
use super::super::program::{Binding, ProgramBuilder, Value};
use super::window::{dispatch, plain_def, Geometry};
use super::Kernel;
use crate::error::Result;
use crate::shape::Border2d;

pub(super) const BORDER: KernelDef = plain_def(
    "border2d",
    wgsl!("common.wgsl", "window.wgsl", "border2d.wgsl"),
);

/// Records a border op planned as `border` (per example) from `x` into `out`.
pub(crate) fn emit_border2d(
    b: &mut ProgramBuilder<'_>,
    border: Border2d,
    x: Value,
    out: Value,
) -> Result<()> {
    let per_dim = b.gpu().limits().max_compute_workgroups_per_dimension;
    let params = Arc::new(move |batch: usize| {
        let [h, w, c] = border.input;
        let [oh, ow, _] = border.output;
        let g = Geometry {
            input: [batch, h, w, c],
            output: [batch, oh, ow, c],
            window: [1, 1],
            strides: [1, 1],
            dilation: [1, 1],
            pad: [border.rows.before, border.cols.before],
        };
        dispatch("border2d", Kernel::Border2d, &g, per_dim, |_| {})
    });
    b.dispatch(
        Kernel::Border2d,
        vec![Binding::Read(x), Binding::Write(out)],
        params,
    );
    Ok(())
}
