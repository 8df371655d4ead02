//! A zero-padded value (a ZeroPadding2D folded into the convolution after it) through every
//! kernel that may read one — each Conv2D variant and both DepthwiseConv2D kernels — against
//! the reference on the input padded for real. Runs on the GPU: no adapter fails the test.

use super::test_support::{data, gpu};
use super::{emit_conv2d, emit_depthwise, ConvVariant, ConvWeights};
use crate::gpu::ProgramBuilder;
use crate::reference;
use crate::shape::{Border2d, Padding};
use crate::specs::{Conv2dSpec, DepthwiseSpec};
use crate::tensor::Tensor;

const PADDINGS: [[[usize; 2]; 2]; 3] = [[[1, 2], [0, 3]], [[0, 1], [0, 1]], [[3, 3], [2, 2]]];

/// The input padded for real, for the reference.
fn padded(x: &Tensor, padding: [[usize; 2]; 2]) -> Tensor {
    let [_, h, w, c] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
    let signed = padding.map(|a| a.map(|v| v as isize));
    let plan = Border2d::new("zero_padding2d", [h, w, c], signed).unwrap();
    reference::border2d(&plan, x).unwrap()
}

#[test]
fn every_conv2d_variant_reads_a_zero_padded_input_as_the_padded_image() {
    let gpu = gpu();
    let x = data(&[2, 7, 6, 4], 1);
    let specs = [
        Conv2dSpec::new(8, [3, 3]).strides([2, 2]),
        Conv2dSpec::new(8, [3, 2]).padding(Padding::Same),
        Conv2dSpec::new(5, [2, 2]).dilation([2, 2]),
        Conv2dSpec::new(6, [3, 3]).groups(2),
        Conv2dSpec::new(4, [1, 1]),
    ];
    let mut checked = 0;
    for padding in PADDINGS {
        let xp = padded(&x, padding);
        for (s, spec) in specs.iter().enumerate() {
            let c = x.shape()[3];
            let k = data(&spec.kernel_shape(c), s + 2);
            let bias = data(&[spec.filters], s + 3);
            let expected = reference::conv2d(spec, &xp, &k, Some(&bias)).unwrap();
            for variant in ConvVariant::ALL {
                if !variant.fits(spec.filters, spec.groups, spec.filters, 0) {
                    continue;
                }
                let mut b = ProgramBuilder::new(&gpu);
                let input = b.input(&x.shape()[1..]).unwrap();
                let view = b.zero_padded(input, padding).unwrap();
                let hwc = [xp.shape()[1], xp.shape()[2], c];
                let out = b.value(&expected.shape()[1..]).unwrap();
                let weights = ConvWeights {
                    kernel: b
                        .weight("kernel", &variant.filter_layout(k.data(), spec.filters))
                        .unwrap(),
                    bias: Some(
                        b.weight("bias", &variant.filter_layout(bias.data(), spec.filters))
                            .unwrap(),
                    ),
                };
                emit_conv2d(&mut b, variant, spec, hwc, view, weights, out, None).unwrap();
                let mut program = pollster::block_on(b.build_async(&[input], &[out], 2)).unwrap();
                let y = program.run(&[x.data()], 2).unwrap();
                assert_eq!(
                    y[0],
                    expected.data(),
                    "{variant:?} {spec:?} padding {padding:?}"
                );
                checked += 1;
            }
        }
    }
    // Every variant ran on some of them.
    assert!(checked >= 3 * (4 + 4 + 2 + 1 + 4) - 3, "{checked}");
}

#[test]
fn depthwise_kernels_read_a_zero_padded_input_as_the_padded_image() {
    let gpu = gpu();
    // Eight channels and multiplier 1 take the vec4 kernel; three and multiplier 2 the other.
    for (channels, multiplier) in [(8, 1), (3, 2)] {
        let x = data(&[2, 6, 5, channels], 4);
        let mut spec = DepthwiseSpec::new([3, 3]);
        spec.strides = [2, 2];
        spec.depth_multiplier = multiplier;
        spec.use_bias = true;
        for padding in PADDINGS {
            let xp = padded(&x, padding);
            let k = data(&spec.kernel_shape(channels), 5);
            let bias = data(&[channels * multiplier], 6);
            let expected = reference::depthwise_conv2d(&spec, &xp, &k, Some(&bias)).unwrap();
            let mut b = ProgramBuilder::new(&gpu);
            let input = b.input(&x.shape()[1..]).unwrap();
            let view = b.zero_padded(input, padding).unwrap();
            let out = b.value(&expected.shape()[1..]).unwrap();
            let kernel = b.weight("kernel", k.data()).unwrap();
            let bias = b.weight("bias", bias.data()).unwrap();
            let hwc = [xp.shape()[1], xp.shape()[2], channels];
            emit_depthwise(&mut b, &spec, hwc, view, kernel, Some(bias), out).unwrap();
            let mut program = pollster::block_on(b.build_async(&[input], &[out], 2)).unwrap();
            let y = program.run(&[x.data()], 2).unwrap();
            assert_eq!(y[0], expected.data(), "{channels}×{multiplier} {padding:?}");
        }
    }
}

#[test]
fn other_kernels_refuse_a_zero_padded_input() {
    let gpu = gpu();
    let mut b = ProgramBuilder::new(&gpu);
    let input = b.input(&[4, 4, 2]).unwrap();
    let view = b.zero_padded(input, [[1, 1], [1, 1]]).unwrap();
    let out = b.value(&[3, 3, 2]).unwrap();
    let spec = crate::specs::Pool2dSpec::new([2, 2]);
    super::emit_pool2d(&mut b, super::PoolKind::Max, &spec, [6, 6, 2], view, out).unwrap();
    let err = pollster::block_on(b.build_async(&[input], &[out], 1)).unwrap_err();
    assert!(err.to_string().contains("zero-padded"), "{err}");
}
