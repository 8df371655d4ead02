//! How a block of Dense units runs: the autotuner's choice between the reduction split into
//! slices and a 1×1 convolution on the Conv2D kernels, each timed on zeros of the shape, where
//! the reduction is long and the rows few; else [`DenseLayout::candidates`]' first.

#[cfg(feature = "native")]
use super::{key, time_program};
use crate::error::Result;
use crate::gpu::kernels::dense_splitk::DenseLayout;
use crate::gpu::Gpu;

impl super::Choice for DenseLayout {
    fn name(self) -> &'static str {
        match self {
            DenseLayout::SplitK => "split_k",
            DenseLayout::Gemm => "gemm",
        }
    }
}

impl Gpu {
    /// The layout for a Dense of `units` units over `rows` rows of `features` inputs per
    /// example, in programs run on up to `batch` examples: measured once per adapter and shape
    /// where tuning is on (native only: it blocks while it measures), else the untuned
    /// candidate.
    pub(crate) fn dense_layout(
        &self,
        batch: usize,
        rows: usize,
        features: usize,
        units: usize,
    ) -> Result<DenseLayout> {
        let candidates = DenseLayout::candidates(batch.saturating_mul(rows), features);
        #[cfg(feature = "native")]
        if candidates.len() >= 2 && self.tuner.enabled() {
            return self.tuned_dense(batch, rows, features, units, &candidates);
        }
        #[cfg(not(feature = "native"))]
        let _ = units;
        Ok(candidates.first().copied().unwrap_or(DenseLayout::Gemm))
    }

    /// The tuner's choice among `candidates` (both layouts, the untuned one first).
    #[cfg(feature = "native")]
    fn tuned_dense(
        &self,
        batch: usize,
        rows: usize,
        features: usize,
        units: usize,
        candidates: &[DenseLayout],
    ) -> Result<DenseLayout> {
        use crate::activation::Activation;
        use crate::gpu::kernels::dense_splitk::emit_split_k;
        use crate::gpu::kernels::ConvWeights;
        use crate::gpu::ProgramBuilder;
        use crate::specs::Conv2dSpec;
        use crate::tensor::Tensor;

        let key = key(
            self,
            &DenseLayout::ALL,
            format_args!("Dense rows {batch} × {rows} features {features} units {units}"),
        );
        let input = [batch, rows, 1, features];
        let spec = Conv2dSpec::new(units, [1, 1]);
        let x = Tensor::from_fn(input.to_vec(), |_| 0.0)?;
        let kernel = Tensor::from_fn(spec.kernel_shape(features).to_vec(), |_| 0.0)?;
        let bias = Tensor::from_fn(vec![units], |_| 0.0)?;
        let chosen = self.tuner.choose(&key, candidates, |layout| {
            let mut program = match layout {
                DenseLayout::SplitK => {
                    let mut b = ProgramBuilder::new(self);
                    b.set_label("autotune dense");
                    let xv = b.input(&[rows, features]).ok()?;
                    let out = b.value(&[rows, units]).ok()?;
                    let weights = ConvWeights {
                        kernel: b.weight("kernel", kernel.data()).ok()?,
                        bias: None,
                    };
                    emit_split_k(
                        &mut b,
                        rows,
                        features,
                        units,
                        Activation::Linear,
                        xv,
                        weights,
                        out,
                        [units, 0],
                    )
                    .ok()?;
                    pollster::block_on(b.build_async(&[xv], &[out], batch)).ok()?
                }
                DenseLayout::Gemm => {
                    // The spec and variant `emit_dense` will use (with the bias Dense has by
                    // default), so the variant's own measurement is made once.
                    let variant = self.conv_variant(&spec, input).ok()?;
                    let program = self.conv2d_program(variant, &spec, input, &kernel, Some(&bias));
                    pollster::block_on(program).ok()?
                }
            };
            program.load(&[x.data()], batch).ok()?;
            time_program(&mut program)
        });
        Ok(chosen.unwrap_or(DenseLayout::Gemm))
    }
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use super::super::Choice;
    use crate::gpu::kernels::dense_splitk::DenseLayout;
    use crate::gpu::{Gpu, GpuOptions};

    #[test]
    fn a_long_reduction_over_few_rows_is_measured_both_ways_once() {
        let gpu = Gpu::with_options(GpuOptions {
            autotune: true,
            autotune_cache: None,
            pipeline_cache_dir: None,
            ..GpuOptions::default()
        })
        .unwrap_or_else(|e| panic!("this test needs a GPU adapter (e.g. Mesa lavapipe): {e}"));
        let layout = gpu.dense_layout(2, 1, 4096, 40).unwrap();
        let choices = gpu.autotune_choices();
        let dense: Vec<_> = choices
            .iter()
            .filter(|(k, _)| k.contains("Dense"))
            .collect();
        assert_eq!(dense.len(), 1, "{choices:?}");
        assert!(dense[0]
            .0
            .contains("Dense rows 2 × 1 features 4096 units 40"));
        assert_eq!(dense[0].1, layout.name());
        // The GEMM candidate's Conv2D variant was chosen on the way, for emit_dense to reuse.
        assert!(choices
            .iter()
            .any(|(k, _)| k.contains("conv2d in [2, 1, 1, 4096]")));

        assert_eq!(gpu.dense_layout(2, 1, 4096, 40).unwrap(), layout);
        assert_eq!(gpu.autotune_choices(), choices);
        // A short reduction, or many rows: the Conv2D kernels, nothing measured.
        assert_eq!(gpu.dense_layout(2, 1, 512, 40).unwrap(), DenseLayout::Gemm);
        assert_eq!(
            gpu.dense_layout(2, 40, 4096, 40).unwrap(),
            DenseLayout::Gemm
        );
        assert_eq!(gpu.autotune_choices(), choices);
    }

    #[test]
    fn untuned_few_rows_split_the_reduction() {
        assert_eq!(DenseLayout::candidates(4, 4096)[0], DenseLayout::SplitK);
        assert_eq!(DenseLayout::candidates(5, 4096)[0], DenseLayout::Gemm);
        assert_eq!(DenseLayout::candidates(5, 4096).len(), 2);
        assert_eq!(DenseLayout::candidates(65, 4096), [DenseLayout::Gemm]);
        assert_eq!(DenseLayout::candidates(1, 100), [DenseLayout::Gemm]);
    }
}
