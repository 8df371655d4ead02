//! The seed documents' worked examples: output shapes and parameter counts exactly as printed
//! there, and the GPU agreeing exactly with the CPU reference on every layer.
//!
//! `wgcnn::seeds` is the demo's data, built with the `cli` feature only.
#![cfg(feature = "cli")]

mod common;

use wgcnn::seeds::{seed_examples, SeedLayer};
use wgcnn::{reference, Tensor};

#[test]
fn seed_shapes_and_param_counts_match_the_documents() {
    let examples = seed_examples();
    assert_eq!(examples.len(), 6);
    for example in examples {
        let [h, w, c] = example.input;
        let mut shape = [1, h, w, c];
        for step in &example.steps {
            let (out, params) = match step.layer {
                SeedLayer::Conv2d(spec) => (
                    spec.output_shape(shape).unwrap(),
                    spec.param_count(shape[3]).unwrap(),
                ),
                SeedLayer::MaxPool2d(spec) => {
                    (spec.output_shape(shape).unwrap(), spec.param_count())
                }
            };
            assert_eq!(out[1..], step.expected_shape[..], "{}", example.source);
            assert_eq!(params, step.expected_params, "{}", example.source);
            shape = out;
        }
    }
}

#[test]
fn seed_examples_run_identically_on_gpu_and_cpu() {
    let gpu = common::gpu();
    let mut rng = common::Rng::new(7);
    for example in seed_examples() {
        let [h, w, c] = example.input;
        let mut x: Tensor = common::int_tensor(&mut rng, &[1, h, w, c], 2);
        for step in &example.steps {
            let (cpu, gpu_out) = match step.layer {
                SeedLayer::Conv2d(spec) => {
                    let k = common::int_tensor(&mut rng, &spec.kernel_shape(x.shape()[3]), 1);
                    let b = spec
                        .use_bias
                        .then(|| common::int_tensor(&mut rng, &[spec.filters], 3));
                    (
                        reference::conv2d(&spec, &x, &k, b.as_ref()).unwrap(),
                        gpu.conv2d(&spec, &x, &k, b.as_ref()).unwrap(),
                    )
                }
                SeedLayer::MaxPool2d(spec) => (
                    reference::max_pool2d(&spec, &x).unwrap(),
                    gpu.max_pool2d(&spec, &x).unwrap(),
                ),
            };
            assert_eq!(
                cpu.shape()[1..],
                step.expected_shape[..],
                "{}",
                example.source
            );
            assert_eq!(gpu_out, cpu, "{}", example.source);
            x = cpu;
        }
    }
}
