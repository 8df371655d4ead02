//! The GPU kernels against the CPU reference over a grid of configurations.
//!
//! Integer-valued data makes every float32 partial sum exact, so conv with linear/relu and every
//! max-pool must match bit for bit; random data and sigmoid/tanh get a tolerance that grows with
//! the reduction length K = kh·kw·cin.

mod common;

use common::{assert_close, gpu, int_tensor, reduction_tolerance, uniform_tensor, Rng};
use wgcnn::gpu::ConvVariant;
use wgcnn::{reference, Activation, Conv2dSpec, Error, Padding, Pool2dSpec};

const KERNELS: [[usize; 2]; 5] = [[1, 1], [2, 2], [3, 3], [5, 2], [7, 7]];
const CHANNELS: [usize; 5] = [1, 3, 4, 5, 16];

/// Every stride pair 1..=4 × 1..=4 with dilation 1, plus dilations 1..=3 (square and not) with
/// stride 1 — Keras refuses dilation > 1 together with stride > 1.
fn strides_and_dilations() -> Vec<([usize; 2], [usize; 2])> {
    let mut out = Vec::new();
    for sh in 1..=4 {
        for sw in 1..=4 {
            out.push(([sh, sw], [1, 1]));
        }
    }
    for d in [[2, 2], [3, 3], [1, 3], [2, 1], [3, 2]] {
        out.push(([1, 1], d));
    }
    out
}

/// Runs one conv on both backends: exact for integer data with linear/relu, else within tolerance.
fn check_conv(rng: &mut Rng, spec: Conv2dSpec, input_shape: [usize; 4], integer: bool) -> bool {
    let cin = input_shape[3];
    let (x, k, b) = if integer {
        (
            int_tensor(rng, &input_shape, 3),
            int_tensor(rng, &spec.kernel_shape(cin), 2),
            spec.use_bias.then(|| int_tensor(rng, &[spec.filters], 4)),
        )
    } else {
        (
            uniform_tensor(rng, &input_shape),
            uniform_tensor(rng, &spec.kernel_shape(cin)),
            spec.use_bias.then(|| uniform_tensor(rng, &[spec.filters])),
        )
    };
    let mut ran = false;
    // Every kernel variant that applies, not only the one wgcnn would choose.
    for variant in ConvVariant::ALL
        .into_iter()
        .filter(|v| v.supports(spec.filters))
    {
        let context = format!("{variant:?}: {spec:?} on {input_shape:?}");
        let cpu = reference::conv2d(&spec, &x, &k, b.as_ref());
        let gpu_out = gpu().conv2d_with(variant, &spec, &x, &k, b.as_ref());
        ran = compare(cpu, gpu_out, &spec, integer, cin, &context);
    }
    ran
}

fn compare(
    cpu: wgcnn::Result<wgcnn::Tensor>,
    gpu_out: wgcnn::Result<wgcnn::Tensor>,
    spec: &Conv2dSpec,
    integer: bool,
    cin: usize,
    context: &str,
) -> bool {
    match (cpu, gpu_out) {
        (Ok(cpu), Ok(gpu_out)) => {
            let exact = integer && matches!(spec.activation, Activation::Linear | Activation::Relu);
            if exact {
                assert_eq!(gpu_out, cpu, "{context}");
            } else {
                let k = spec.kernel_size[0] * spec.kernel_size[1] * cin;
                assert_close(&gpu_out, &cpu, reduction_tolerance(k), context);
            }
            true
        }
        (Err(Error::EmptyOutput { .. }), Err(Error::EmptyOutput { .. })) => {
            assert_eq!(
                spec.padding,
                Padding::Valid,
                "{context}: only 'valid' can be empty"
            );
            false
        }
        (cpu, gpu_out) => panic!(
            "{context}: cpu {}, gpu {}",
            summary(&cpu),
            summary(&gpu_out)
        ),
    }
}

/// A result in a line: the shape, or the error.
fn summary(r: &wgcnn::Result<wgcnn::Tensor>) -> String {
    match r {
        Ok(t) => format!("Ok(shape {:?})", t.shape()),
        Err(e) => format!("Err({e})"),
    }
}

#[test]
fn conv2d_grid_integer_data_matches_exactly() {
    let mut rng = Rng::new(1);
    let (mut ran, mut empty) = (0, 0);
    let mut i = 0usize;
    for padding in [Padding::Valid, Padding::Same] {
        for kernel in KERNELS {
            for (strides, dilation) in strides_and_dilations() {
                // Each combination runs twice, cycling channels, batch, bias, size and
                // activation so that every value of each meets many of the others.
                for _ in 0..2 {
                    let spec = Conv2dSpec::new([1, 2, 3, 4, 8, 5, 12][i % 7], kernel)
                        .strides(strides)
                        .dilation(dilation)
                        .padding(padding)
                        .use_bias(i.is_multiple_of(2))
                        .activation(if i.is_multiple_of(3) {
                            Activation::Relu
                        } else {
                            Activation::Linear
                        });
                    let shape = [1 + i % 3, 9 + i % 4, 8 + i % 3, CHANNELS[i % 5]];
                    if check_conv(&mut rng, spec, shape, true) {
                        ran += 1;
                    } else {
                        empty += 1;
                    }
                    i += 1;
                }
            }
        }
    }
    // The grid must mostly run, and must include 'valid' windows larger than the input.
    assert!(ran > 350 && empty > 10, "ran {ran}, empty {empty}");
}

#[test]
fn conv2d_kernel_larger_than_input_with_same_padding() {
    let mut rng = Rng::new(2);
    for (i, kernel) in [[5, 5], [7, 7], [4, 6], [9, 2]].into_iter().enumerate() {
        for strides in [[1, 1], [2, 2], [1, 3]] {
            for cin in [1, 3, 16] {
                let spec = Conv2dSpec::new(3 + i % 2, kernel)
                    .strides(strides)
                    .padding(Padding::Same)
                    .use_bias(i % 2 == 1);
                assert!(check_conv(&mut rng, spec, [2, 3, 2, cin], true));
            }
        }
    }
}

#[test]
fn conv2d_random_data_and_every_activation_within_tolerance() {
    let mut rng = Rng::new(3);
    let mut i = 0usize;
    for padding in [Padding::Valid, Padding::Same] {
        for kernel in KERNELS {
            for (strides, dilation) in [([1, 1], [1, 1]), ([2, 3], [1, 1]), ([1, 1], [2, 3])] {
                for activation in Activation::ALL {
                    let spec = Conv2dSpec::new(2 + i % 3, kernel)
                        .strides(strides)
                        .dilation(dilation)
                        .padding(padding)
                        .use_bias(i % 2 == 1)
                        .activation(activation);
                    let shape = [1 + i % 3, 13, 12, CHANNELS[i % 5]];
                    check_conv(&mut rng, spec, shape, false);
                    // Integer data also drives sigmoid/tanh far into saturation.
                    check_conv(&mut rng, spec, shape, true);
                    i += 1;
                }
            }
        }
    }
}

#[test]
fn max_pool2d_grid_matches_exactly() {
    let mut rng = Rng::new(4);
    let (mut ran, mut empty) = (0, 0);
    let mut i = 0usize;
    for padding in [Padding::Valid, Padding::Same] {
        for pool in [[1, 1], [2, 2], [3, 3], [5, 2], [2, 3], [7, 7]] {
            for sh in 1..=4 {
                for sw in 1..=4 {
                    let spec = Pool2dSpec::new(pool).strides([sh, sw]).padding(padding);
                    let shape = [1 + i % 3, 9 + i % 4, 6 + i % 3, CHANNELS[i % 5]];
                    // Max-pooling only selects: random floats must match exactly too.
                    let x = uniform_tensor(&mut rng, &shape);
                    let context = format!("{spec:?} on {shape:?}");
                    match (
                        reference::max_pool2d(&spec, &x),
                        gpu().max_pool2d(&spec, &x),
                    ) {
                        (Ok(cpu), Ok(gpu_out)) => {
                            assert_eq!(gpu_out, cpu, "{context}");
                            ran += 1;
                        }
                        (Err(Error::EmptyOutput { .. }), Err(Error::EmptyOutput { .. })) => {
                            empty += 1
                        }
                        (cpu, gpu_out) => {
                            panic!(
                                "{context}: cpu {}, gpu {}",
                                summary(&cpu),
                                summary(&gpu_out)
                            )
                        }
                    }
                    i += 1;
                }
            }
        }
    }
    assert!(ran > 150 && empty >= 5, "ran {ran}, empty {empty}");
}

#[test]
fn max_pool2d_padding_never_wins() {
    // All-negative input: if padded cells counted as zeros, 'same' borders would read 0.
    let spec = Pool2dSpec::new([3, 3])
        .strides([2, 2])
        .padding(Padding::Same);
    let x = wgcnn::Tensor::from_fn(vec![1, 6, 5, 2], |i| -1.0 - i as f32).unwrap();
    let cpu = reference::max_pool2d(&spec, &x).unwrap();
    assert!(cpu.data().iter().all(|&v| v < 0.0));
    assert_eq!(gpu().max_pool2d(&spec, &x).unwrap(), cpu);
}

#[test]
fn conv2d_many_filter_and_position_tiles() {
    // 40 filters span two 32-filter tiles of the tiled kernel and ten vec4 blocks; 2·13·11
    // positions span several 32-position tiles; K = 3·3·5 = 45 spans six 8-deep slices.
    let mut rng = Rng::new(9);
    for padding in [Padding::Valid, Padding::Same] {
        for strides in [[1, 1], [2, 3]] {
            let spec = Conv2dSpec::new(40, [3, 3])
                .strides(strides)
                .padding(padding)
                .activation(Activation::Relu);
            assert!(check_conv(&mut rng, spec, [2, 13, 11, 5], true));
        }
    }
}
