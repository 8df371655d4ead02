//! Property tests: random small configs, GPU against the CPU reference. When a config is
//! invalid, both backends must refuse it with the same error.

mod common;

use common::{assert_close, gpu, int_tensor, reduction_tolerance, Rng};
use proptest::prelude::*;
use wgcnn::gpu::ConvVariant;
use wgcnn::{reference, Activation, Conv2dSpec, Padding, Pool2dSpec};

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Valid), Just(Padding::Same)]
}

fn activation() -> impl Strategy<Value = Activation> {
    prop::sample::select(Activation::ALL.to_vec())
}

fn conv_case() -> impl Strategy<Value = (Conv2dSpec, [usize; 4], u64)> {
    (
        (1usize..=3, 1usize..=12, 1usize..=12, 1usize..=6),
        (1usize..=9, 1usize..=5, 1usize..=5),
        (1usize..=4, 1usize..=4, 1usize..=3, 1usize..=3),
        (padding(), any::<bool>(), activation(), any::<u64>()),
    )
        .prop_map(
            |((n, h, w, c), (f, kh, kw), (sh, sw, dh, dw), (pad, bias, act, seed))| {
                // Keras refuses dilation > 1 with stride > 1; keep such configs rare, not absent.
                let dilation = if sh > 1 || sw > 1 {
                    if seed.is_multiple_of(16) {
                        [dh, dw]
                    } else {
                        [1, 1]
                    }
                } else {
                    [dh, dw]
                };
                let spec = Conv2dSpec::new(f, [kh, kw])
                    .strides([sh, sw])
                    .dilation(dilation)
                    .padding(pad)
                    .use_bias(bias)
                    .activation(act);
                (spec, [n, h, w, c], seed)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn conv2d_gpu_matches_reference((spec, shape, seed) in conv_case()) {
        let mut rng = Rng::new(seed);
        let x = int_tensor(&mut rng, &shape, 3);
        let k = int_tensor(&mut rng, &spec.kernel_shape(shape[3]), 2);
        let b = spec.use_bias.then(|| int_tensor(&mut rng, &[spec.filters], 3));
        for variant in ConvVariant::ALL.into_iter().filter(|v| v.supports(spec.filters)) {
        let cpu = reference::conv2d(&spec, &x, &k, b.as_ref());
        let gpu_out = gpu().conv2d_with(variant, &spec, &x, &k, b.as_ref());
        match (cpu, gpu_out) {
            (Ok(cpu), Ok(gpu_out)) => {
                if matches!(spec.activation, Activation::Linear | Activation::Relu) {
                    prop_assert_eq!(gpu_out, cpu);
                } else {
                    let k = spec.kernel_size[0] * spec.kernel_size[1] * shape[3];
                    assert_close(&gpu_out, &cpu, reduction_tolerance(k), &format!("{spec:?}"));
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "backends disagree: cpu ok={} gpu ok={}", a.is_ok(), b.is_ok()),
        }
        }
    }

    #[test]
    fn max_pool2d_gpu_matches_reference(
        shape in (1usize..=3, 1usize..=12, 1usize..=12, 1usize..=6),
        pool in (1usize..=5, 1usize..=5),
        strides in (1usize..=4, 1usize..=4),
        pad in padding(),
        seed in any::<u64>(),
    ) {
        let spec = Pool2dSpec::new([pool.0, pool.1]).strides([strides.0, strides.1]).padding(pad);
        let mut rng = Rng::new(seed);
        let x = common::uniform_tensor(&mut rng, &[shape.0, shape.1, shape.2, shape.3]);
        match (reference::max_pool2d(&spec, &x), gpu().max_pool2d(&spec, &x)) {
            (Ok(cpu), Ok(gpu_out)) => prop_assert_eq!(gpu_out, cpu),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "backends disagree: cpu ok={} gpu ok={}", a.is_ok(), b.is_ok()),
        }
    }
}
