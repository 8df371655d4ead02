//! How softmax and LayerNormalization cover their rows: the autotuner's choice among the
//! layouts the device can run (an invocation per row, a workgroup per row reduced by a tree, or
//! by subgroup operations), each timed on zeros of the shape, or [`Rows::untuned`] when tuning
//! is off.

#[cfg(feature = "native")]
use super::{key, time_program};
use crate::error::Result;
use crate::gpu::kernels::row_reduce::{RowOp, Rows};
use crate::gpu::Gpu;

impl super::Choice for Rows {
    fn name(self) -> &'static str {
        match self {
            Rows::PerInvocation => "per_invocation",
            Rows::PerWorkgroup => "per_workgroup",
            Rows::Subgroups => "subgroups",
        }
    }
}

impl Gpu {
    /// The layout for `op` over `rows` rows of `cols` values per example (a row's values
    /// `inner` apart), in programs run on up to `batch` examples: measured once per adapter
    /// and shape where tuning is on (native only: it blocks while it measures), else
    /// [`Rows::untuned`].
    pub(crate) fn row_layout(
        &self,
        op: RowOp,
        batch: usize,
        rows: usize,
        cols: usize,
        inner: usize,
    ) -> Result<Rows> {
        let candidates = Rows::candidates(self, cols);
        #[cfg(feature = "native")]
        if candidates.len() >= 2 && self.tuner.enabled() {
            return self.tuned_layout(op, batch, rows, cols, inner, &candidates);
        }
        #[cfg(not(feature = "native"))]
        let _ = (op, batch, rows, inner);
        Ok(candidates.first().copied().unwrap_or(Rows::PerInvocation))
    }

    /// The tuner's choice among `candidates` (at least two, the untuned one first).
    #[cfg(feature = "native")]
    fn tuned_layout(
        &self,
        op: RowOp,
        batch: usize,
        rows: usize,
        cols: usize,
        inner: usize,
        candidates: &[Rows],
    ) -> Result<Rows> {
        use crate::gpu::kernels::{layer_norm, softmax};
        use crate::gpu::ProgramBuilder;

        let listed: Vec<Rows> = Rows::ALL
            .into_iter()
            .filter(|l| candidates.contains(l))
            .collect();
        let key = key(
            self,
            &listed,
            format_args!("{op:?} rows {batch} × {rows} cols {cols} inner {inner}"),
        );
        let len = rows
            .checked_mul(cols)
            .and_then(|n| n.checked_mul(batch))
            .ok_or(crate::Error::Overflow {
                op: "autotune",
                what: "the rows",
            })?;
        let zeros = vec![0.0f32; len];
        let chosen = self.tuner.choose(&key, candidates, |layout| {
            let mut b = ProgramBuilder::new(self);
            b.set_label("autotune rows");
            let x = b.input(&[rows * cols]).ok()?;
            let out = b.value(&[rows * cols]).ok()?;
            match op {
                RowOp::Softmax => {
                    softmax::emit_softmax_as(&mut b, layout, rows, cols, inner, false, x, out)
                }
                RowOp::LayerNorm => {
                    let norm = layer_norm::Norm {
                        epsilon: 1e-3,
                        gamma: None,
                        beta: None,
                        rms: false,
                    };
                    layer_norm::emit_layer_norm_as(&mut b, layout, rows, cols, norm, x, out)
                }
            }
            .ok()?;
            let mut program = pollster::block_on(b.build_async(&[x], &[out], batch)).ok()?;
            program.load(&[&zeros], batch).ok()?;
            time_program(&mut program)
        });
        Ok(chosen.unwrap_or(Rows::PerInvocation))
    }
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use super::super::Choice;
    use crate::gpu::kernels::row_reduce::{RowOp, Rows};
    use crate::gpu::{Gpu, GpuOptions};

    fn gpu(autotune: bool) -> Gpu {
        Gpu::with_options(GpuOptions {
            autotune,
            autotune_cache: None,
            pipeline_cache_dir: None,
            ..GpuOptions::default()
        })
        .unwrap_or_else(|e| panic!("this test needs a GPU adapter (e.g. Mesa lavapipe): {e}"))
    }

    #[test]
    fn long_rows_are_measured_once_per_op_and_shape_short_rows_never() {
        let gpu = gpu(true);
        let candidates = Rows::candidates(&gpu, 1000);
        assert!(candidates.len() >= 2, "{candidates:?}");
        let softmax = gpu.row_layout(RowOp::Softmax, 4, 3, 1000, 1).unwrap();
        assert!(candidates.contains(&softmax));
        let choices = gpu.autotune_choices();
        assert_eq!(choices.len(), 1, "{choices:?}");
        assert!(choices[0]
            .0
            .contains("Softmax rows 4 × 3 cols 1000 inner 1"));
        assert_eq!(choices[0].1, softmax.name());

        // Remembered: the same shape again measures nothing.
        assert_eq!(
            gpu.row_layout(RowOp::Softmax, 4, 3, 1000, 1).unwrap(),
            softmax
        );
        assert_eq!(gpu.autotune_choices(), choices);
        // Another op on the same shape is its own choice.
        gpu.row_layout(RowOp::LayerNorm, 4, 3, 1000, 1).unwrap();
        assert_eq!(gpu.autotune_choices().len(), 2);
        // Rows shorter than a workgroup: an invocation each, nothing to measure.
        assert_eq!(
            gpu.row_layout(RowOp::Softmax, 4, 3, 10, 1).unwrap(),
            Rows::PerInvocation
        );
        assert_eq!(gpu.autotune_choices().len(), 2);
    }

    #[test]
    fn untuned_layouts_follow_the_adapter() {
        let gpu = gpu(false);
        let long = gpu.row_layout(RowOp::LayerNorm, 1, 197, 768, 1).unwrap();
        assert_eq!(long, Rows::untuned(&gpu, 768));
        assert!(gpu.autotune_choices().is_empty());
        let expected = if gpu.adapter_info().device_type == wgpu::DeviceType::Cpu {
            Rows::PerInvocation
        } else if Rows::Subgroups.runs_on(&gpu) {
            Rows::Subgroups
        } else {
            Rows::PerWorkgroup
        };
        assert_eq!(long, expected);
        assert_eq!(Rows::untuned(&gpu, 100), Rows::PerInvocation);
    }

    #[test]
    fn layout_names_are_distinct() {
        let names: std::collections::BTreeSet<_> =
            Rows::ALL.into_iter().map(Choice::name).collect();
        assert_eq!(names.len(), Rows::ALL.len());
    }
}
