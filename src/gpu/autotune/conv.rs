//! The Conv2D kernel variant for a shape: the autotuner's choice among the variants that fit,
//! each timed on zeros of the shape, or [`ConvVariant::choose`] when tuning is off.

#[cfg(feature = "native")]
use super::{key, time_program};
use crate::error::Result;
use crate::gpu::{ConvVariant, Gpu};
use crate::specs::Conv2dSpec;
#[cfg(feature = "native")]
use crate::tensor::Tensor;

impl super::Choice for ConvVariant {
    fn name(self) -> &'static str {
        match self {
            ConvVariant::Direct => "direct",
            ConvVariant::Blocked => "blocked",
            ConvVariant::Wide => "wide",
            ConvVariant::Tiled => "tiled",
            ConvVariant::Tiled64 => "tiled64",
        }
    }
}

impl Gpu {
    /// The kernel variant for `spec` on inputs of shape `input`: the autotuner's choice
    /// (measured once per adapter and shape, on zeros of the same shapes), or
    /// [`ConvVariant::choose`] when autotuning is off.
    ///
    /// Measuring runs each candidate and blocks until it is done, so it is native-only: an
    /// async caller on native ([`Gpu::conv2d_async`], [`crate::Model::compile_async`]) blocks
    /// its thread while a new shape is tuned.
    pub fn conv_variant(&self, spec: &Conv2dSpec, input: [usize; 4]) -> Result<ConvVariant> {
        let filters = spec.filters;
        let mut candidates: Vec<ConvVariant> = ConvVariant::ALL
            .into_iter()
            .filter(|v| v.fits(filters, spec.groups, filters, 0))
            .collect();
        // The untuned choice first: it is what the tuner takes when tuning is off.
        let preferred = ConvVariant::choose(spec);
        candidates.sort_by_key(|v| *v != preferred);
        // Without `native` the tuner is always off (see [`crate::GpuOptions::autotune`]).
        #[cfg(feature = "native")]
        if candidates.len() >= 2 && self.tuner.enabled() {
            return self.tuned_variant(spec, input, &candidates);
        }
        #[cfg(not(feature = "native"))]
        let _ = input;
        Ok(candidates.first().copied().unwrap_or(ConvVariant::Direct))
    }

    /// The tuner's choice among `candidates` (at least two, the untuned one first), remembered
    /// or measured now.
    #[cfg(feature = "native")]
    fn tuned_variant(
        &self,
        spec: &Conv2dSpec,
        input: [usize; 4],
        candidates: &[ConvVariant],
    ) -> Result<ConvVariant> {
        let listed: Vec<ConvVariant> = ConvVariant::ALL
            .into_iter()
            .filter(|v| candidates.contains(v))
            .collect();
        let key = key(
            self,
            &listed,
            format_args!(
                "conv2d in {:?} kernel {:?} filters {} strides {:?} dilation {:?} groups {} {} bias {}",
                input,
                spec.kernel_size,
                spec.filters,
                spec.strides,
                spec.dilation,
                spec.groups,
                spec.padding,
                spec.use_bias
            ),
        );
        let zeros = |shape: Vec<usize>| Tensor::from_fn(shape, |_| 0.0);
        let x = zeros(input.to_vec())?;
        let k = zeros(spec.kernel_shape(input[3]).to_vec())?;
        let b = spec
            .use_bias
            .then(|| zeros(vec![spec.filters]))
            .transpose()?;
        let chosen = self.tuner.choose(&key, candidates, |variant| {
            let mut program =
                pollster::block_on(self.conv2d_program(variant, spec, input, &k, b.as_ref()))
                    .ok()?;
            program.load(&[x.data()], input[0]).ok()?;
            time_program(&mut program)
        });
        Ok(chosen.unwrap_or(ConvVariant::Direct))
    }

    /// The autotuner's remembered choices as `(key, name)`: the key names the adapter, the op
    /// and its shape; the name is the chosen Conv2D variant's or row layout's (`"wide"`,
    /// `"subgroups"`).
    pub fn autotune_choices(&self) -> Vec<(String, String)> {
        self.tuner.choices()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Choice;
    use crate::gpu::ConvVariant;

    #[test]
    fn variant_names_are_distinct() {
        let names: std::collections::BTreeSet<_> =
            ConvVariant::ALL.into_iter().map(Choice::name).collect();
        assert_eq!(names.len(), ConvVariant::ALL.len());
    }
}
