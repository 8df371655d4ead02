//! A fused `Add` (ResNet's shortcut) through every Conv2D variant: the kernel adds a dense
//! tensor of the output's shape before the activation, and must give exactly the reference
//! convolution plus that tensor. Runs on the GPU: no adapter fails the test.

use super::test_support::{data, gpu};
use super::{emit_conv2d, ConvVariant, ConvWeights};
use crate::activation::Activation;
use crate::gpu::ProgramBuilder;
use crate::reference;
use crate::shape::Padding;
use crate::specs::Conv2dSpec;
use crate::tensor::Tensor;

#[test]
fn every_conv2d_variant_adds_a_fused_residual_before_its_activation() {
    let gpu = gpu();
    let x = data(&[3, 9, 7, 4], 1);
    let specs = [
        // 8 filters: every variant; 6: the direct and wide (one float at a time) kernels;
        // 1×1 on 67 positions a chunk: a last tile only partly full for the tiled kernels.
        Conv2dSpec::new(8, [3, 3]).padding(Padding::Same),
        Conv2dSpec::new(6, [2, 3]).strides([2, 1]),
        Conv2dSpec::new(12, [1, 1]),
    ];
    let mut checked = 0;
    for (s, spec) in specs.iter().enumerate() {
        let spec = spec.activation(Activation::Relu);
        let c = x.shape()[3];
        let k = data(&spec.kernel_shape(c), s + 2);
        let bias = data(&[spec.filters], s + 3);
        let linear = spec.activation(Activation::Linear);
        let conv = reference::conv2d(&linear, &x, &k, Some(&bias)).unwrap();
        let r = data(conv.shape(), s + 4);
        let sums: Vec<f32> = conv
            .data()
            .iter()
            .zip(r.data())
            .map(|(a, b)| (a + b).max(0.0))
            .collect();
        let expected = Tensor::new(conv.shape().to_vec(), sums).unwrap();
        for variant in ConvVariant::ALL {
            if !variant.fits(spec.filters, spec.groups, spec.filters, 0) {
                continue;
            }
            let mut b = ProgramBuilder::new(&gpu);
            let input = b.input(&x.shape()[1..]).unwrap();
            let shortcut = b.input(&r.shape()[1..]).unwrap();
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
            let hwc = [x.shape()[1], x.shape()[2], c];
            emit_conv2d(
                &mut b,
                variant,
                &spec,
                hwc,
                input,
                weights,
                out,
                Some(shortcut),
            )
            .unwrap();
            let mut program =
                pollster::block_on(b.build_async(&[input, shortcut], &[out], 3)).unwrap();
            let y = program.run(&[x.data(), r.data()], 3).unwrap();
            assert_eq!(y[0], expected.data(), "{variant:?} {spec:?}");
            checked += 1;
        }
    }
    // 8 and 12 filters: all five variants; 6: direct and wide.
    assert_eq!(checked, 5 + 2 + 5);
}
