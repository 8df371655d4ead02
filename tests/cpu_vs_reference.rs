//! The fast CPU backend (im2col + SIMD GEMM) against the reference: the same grid of
//! configurations as the GPU, within a tolerance that grows with the reduction length (the
//! GEMM sums in float32, in its own order). Whole models too.

mod common;

use common::{assert_close, int_tensor, reduction_tolerance, uniform_tensor, Rng};
use proptest::prelude::*;
use wgcnn::{cpu, reference, Activation, Conv2dSpec, Padding, Tensor};

fn check(spec: Conv2dSpec, shape: [usize; 4], seed: u64) {
    let mut rng = Rng::new(seed);
    let x = uniform_tensor(&mut rng, &shape);
    let k = uniform_tensor(&mut rng, &spec.kernel_shape(shape[3]));
    let b = spec
        .use_bias
        .then(|| uniform_tensor(&mut rng, &[spec.filters]));
    let context = format!("{spec:?} on {shape:?}");
    match (
        reference::conv2d(&spec, &x, &k, b.as_ref()),
        cpu::conv2d(&spec, &x, &k, b.as_ref()),
    ) {
        (Ok(r), Ok(f)) => {
            let kk = spec.kernel_size[0] * spec.kernel_size[1] * shape[3];
            assert_close(&f, &r, reduction_tolerance(kk), &context);
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{context}"),
        (a, b) => panic!(
            "{context}: reference ok={}, cpu ok={}",
            a.is_ok(),
            b.is_ok()
        ),
    }
}

#[test]
fn conv2d_grid() {
    let mut i = 0u64;
    for padding in [Padding::Valid, Padding::Same] {
        for kernel in [[1, 1], [2, 2], [3, 3], [5, 2], [7, 7]] {
            for (strides, dilation) in [
                ([1, 1], [1, 1]),
                ([2, 2], [1, 1]),
                ([3, 1], [1, 1]),
                ([1, 4], [1, 1]),
                ([1, 1], [2, 3]),
            ] {
                for activation in Activation::ALL {
                    let spec = Conv2dSpec::new(1 + (i as usize) % 17, kernel)
                        .strides(strides)
                        .dilation(dilation)
                        .padding(padding)
                        .use_bias(i.is_multiple_of(2))
                        .activation(activation);
                    check(
                        spec,
                        [
                            1 + (i as usize) % 3,
                            11,
                            9 + (i as usize) % 5,
                            [1, 3, 4, 5, 16][(i as usize) % 5],
                        ],
                        i,
                    );
                    i += 1;
                }
            }
        }
    }
}

#[test]
fn conv2d_integer_data_is_exact_and_large_problems_span_many_blocks() {
    // 1×40×40×16 → 32 filters 3×3 'same': 1600 patch rows, several GEMM blocks on every core.
    let spec = Conv2dSpec::new(32, [3, 3])
        .padding(Padding::Same)
        .activation(Activation::Relu);
    let mut rng = Rng::new(5);
    let x = int_tensor(&mut rng, &[1, 40, 40, 16], 3);
    let k = int_tensor(&mut rng, &spec.kernel_shape(16), 2);
    let b = int_tensor(&mut rng, &[32], 3);
    assert_eq!(
        cpu::conv2d(&spec, &x, &k, Some(&b)).unwrap(),
        reference::conv2d(&spec, &x, &k, Some(&b)).unwrap()
    );
}

#[test]
fn dense_matches_reference() {
    let mut rng = Rng::new(6);
    for (shape, units) in [
        (vec![3, 17], 5),
        (vec![2, 4, 3, 8], 7),
        (vec![1, 2304], 512),
        // Up to 4 rows run as a matrix-vector product in chunks of kernel rows (here 20).
        (vec![4, 5000], 1000),
        (vec![2, 1, 9000], 3),
        (vec![1, 1], 1),
        (vec![5, 5000], 1000),
    ] {
        let x = uniform_tensor(&mut rng, &shape);
        let k = uniform_tensor(&mut rng, &[*shape.last().unwrap(), units]);
        let b = uniform_tensor(&mut rng, &[units]);
        for activation in Activation::ALL {
            let r = reference::dense(&x, &k, Some(&b), activation).unwrap();
            let f = cpu::dense(&x, &k, Some(&b), activation).unwrap();
            assert_close(
                &f,
                &r,
                reduction_tolerance(*shape.last().unwrap()),
                &format!("{shape:?} → {units}"),
            );
        }
    }
    let x = uniform_tensor(&mut rng, &[2, 3]);
    assert!(cpu::dense(
        &x,
        &uniform_tensor(&mut rng, &[4, 2]),
        None,
        Activation::Linear
    )
    .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn conv2d_random_configs(
        shape in (1usize..=3, 1usize..=12, 1usize..=12, 1usize..=6),
        kernel in (1usize..=5, 1usize..=5),
        strides in (1usize..=4, 1usize..=4),
        filters in 1usize..=9,
        same in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let spec = Conv2dSpec::new(filters, [kernel.0, kernel.1])
            .strides([strides.0, strides.1])
            .padding(if same { Padding::Same } else { Padding::Valid });
        check(spec, [shape.0, shape.1, shape.2, shape.3], seed);
    }
}

/// `t` with some values replaced by NaN and ±∞, so NaN propagation is checked too.
fn with_non_finite(rng: &mut Rng, t: &Tensor) -> Tensor {
    let data = t
        .data()
        .iter()
        .map(|&v| match rng.below(40) {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            _ => v,
        })
        .collect();
    Tensor::new(t.shape().to_vec(), data).unwrap()
}

/// Bit for bit, NaN equal to NaN: the fast paths compute the same values in the same order.
fn assert_identical(actual: &Tensor, expected: &Tensor, context: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{context}");
    for (i, (a, e)) in actual.data().iter().zip(expected.data()).enumerate() {
        assert!(
            a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan()),
            "{context}: element {i} is {a}, the reference says {e}"
        );
    }
}

#[test]
fn pooling_equals_the_reference_exactly() {
    let mut rng = Rng::new(11);
    let mut i = 0usize;
    for padding in [Padding::Valid, Padding::Same] {
        for (pool, strides) in [([2, 2], [2, 2]), ([3, 3], [2, 2]), ([3, 2], [1, 3])] {
            // Few rows (split by channel blocks) and many rows; global windows too.
            for shape in [[1, 7, 9, 150], [4, 13, 11, 5], [2, 6, 6, 64]] {
                i += 1;
                let x = uniform_tensor(&mut rng, &shape);
                let x = if i.is_multiple_of(2) {
                    with_non_finite(&mut rng, &x)
                } else {
                    x
                };
                let spec = wgcnn::Pool2dSpec::new(pool)
                    .strides(strides)
                    .padding(padding);
                let global = wgcnn::Pool2dSpec::new([shape[1], shape[2]]);
                for s in [spec, global] {
                    let context = format!("{s:?} on {shape:?}");
                    assert_identical(
                        &cpu::max_pool2d(&s, &x).unwrap(),
                        &reference::max_pool2d(&s, &x).unwrap(),
                        &context,
                    );
                    assert_identical(
                        &cpu::avg_pool2d(&s, &x).unwrap(),
                        &reference::avg_pool2d(&s, &x).unwrap(),
                        &context,
                    );
                }
            }
        }
    }
}

#[test]
fn broadcasting_binary_equals_the_reference_exactly() {
    let mut rng = Rng::new(12);
    for (a, b) in [
        (vec![2, 5, 4, 3], vec![2, 5, 4, 3]),
        (vec![2, 5, 4, 3], vec![2, 1, 1, 3]),
        (vec![2, 1, 1, 3], vec![2, 5, 4, 3]),
        (vec![2, 5, 4, 3], vec![2, 5, 4, 1]),
        (vec![2, 5, 4, 3], vec![2, 3]),
        (vec![3, 4, 1], vec![3, 1, 6]),
        (vec![2, 7], vec![2, 1]),
        (vec![3], vec![3]),
    ] {
        let (x, y) = (uniform_tensor(&mut rng, &a), uniform_tensor(&mut rng, &b));
        let (x, y) = (with_non_finite(&mut rng, &x), with_non_finite(&mut rng, &y));
        let f = |p: f64, q: f64| p * q - q;
        assert_identical(
            &cpu::binary(&x, &y, f).unwrap(),
            &reference::binary(&x, &y, f).unwrap(),
            &format!("{a:?} with {b:?}"),
        );
    }
    let x = uniform_tensor(&mut rng, &[2, 3]);
    assert!(cpu::binary(&x, &uniform_tensor(&mut rng, &[2, 4]), |p, _| p).is_err());
    assert!(cpu::binary(&x, &uniform_tensor(&mut rng, &[3, 3]), |p, _| p).is_err());
}

#[test]
fn padding_and_cropping_copy_exactly_what_the_reference_copies() {
    let mut rng = Rng::new(77);
    let shapes = [[1, 1, 1, 1], [2, 5, 7, 3], [3, 4, 1, 8], [1, 9, 9, 16]];
    let amounts: [[[isize; 2]; 2]; 6] = [
        [[0, 0], [0, 0]],
        [[1, 1], [1, 1]],
        [[0, 2], [3, 0]],
        [[5, 0], [0, 4]],
        [[-1, 0], [0, -1]],
        [[2, -1], [-1, 3]],
    ];
    for shape in shapes {
        let x = uniform_tensor(&mut rng, &shape);
        for a in amounts {
            let hwc = [shape[1], shape[2], shape[3]];
            // Cropping a 1-wide axis away is an error for both, checked elsewhere.
            let Ok(plan) = wgcnn::shape::Border2d::new("border2d", hwc, a) else {
                continue;
            };
            let expected = reference::border2d(&plan, &x).unwrap();
            assert_eq!(
                cpu::border2d(&plan, &x).unwrap(),
                expected,
                "{shape:?} {a:?}"
            );
        }
    }
}
