//! Whole-model forward passes against real Keras outputs (tests/fixtures/models, made by
//! tools/gen_keras_models.py), on the CPU reference and on the GPU.

mod common;

use std::path::{Path, PathBuf};

use common::assert_close;
use wgcnn::model::Model;
use wgcnn::npy::read_npy;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/models")
        .join(name)
}

/// Keras computes in float32 with its own summation order; the reference accumulates in f64.
/// These models have reductions of at most a few hundred terms on values of order 1.
const KERAS_TOLERANCE: f32 = 2e-5;

#[test]
fn reference_matches_keras() {
    for name in ["every_layer", "functional_chain"] {
        let model = Model::load(fixture(&format!("{name}.keras"))).unwrap();
        let x = read_npy(fixture(&format!("{name}.input.npy"))).unwrap();
        let expected = read_npy(fixture(&format!("{name}.output.npy"))).unwrap();
        let y = model.run_reference(&x).unwrap();
        assert_close(&y, &expected, KERAS_TOLERANCE, name);
    }
}

#[test]
fn gpu_matches_keras_and_the_reference() {
    let gpu = common::gpu();
    for name in ["every_layer", "functional_chain"] {
        let model = Model::load(fixture(&format!("{name}.keras"))).unwrap();
        let x = read_npy(fixture(&format!("{name}.input.npy"))).unwrap();
        let expected = read_npy(fixture(&format!("{name}.output.npy"))).unwrap();
        let mut compiled = model.compile(gpu, 64).unwrap();
        let y = compiled.run(&x).unwrap();
        assert_close(
            &y,
            &expected,
            KERAS_TOLERANCE,
            &format!("{name}: gpu vs keras"),
        );
        assert_close(
            &y,
            &model.run_reference(&x).unwrap(),
            KERAS_TOLERANCE,
            &format!("{name}: gpu vs reference"),
        );
        // Running again reuses every buffer and gives the same answer.
        assert_eq!(compiled.run(&x).unwrap(), y, "{name}: second run");
    }
}

use wgcnn::layers::{
    ActivationLayer, AveragePooling2d, BatchNormalization, Conv2d, Dense, Flatten, GlobalPooling2d,
    Identity, LayerActivation, MaxPooling2d, Reduce, Relu, ZeroPadding2d,
};
use wgcnn::model::Sequential;
use wgcnn::{Activation, Conv2dSpec, Padding, Pool2dSpec};

fn randomize(model: &mut Model, seed: u64) {
    common::randomize(model, seed);
}

fn dense(units: usize, use_bias: bool, activation: LayerActivation) -> Dense {
    Dense {
        units,
        use_bias,
        activation,
    }
}

fn built_models() -> Vec<Model> {
    let relu = Relu {
        max_value: Some(0.6),
        negative_slope: 0.2,
        threshold: -0.1,
    };
    vec![
        Sequential::new([9, 7, 3])
            .layer(Conv2d::new(
                Conv2dSpec::new(4, [3, 3])
                    .padding(Padding::Same)
                    .activation(Activation::Relu),
            ))
            .layer(BatchNormalization::new().with(true, false))
            .layer(relu)
            .layer(MaxPooling2d(Pool2dSpec::new([2, 2]).padding(Padding::Same)))
            .layer(dense(
                6,
                true,
                LayerActivation::Elementwise(Activation::Tanh),
            ))
            .layer(GlobalPooling2d {
                reduce: Reduce::Max,
                keepdims: true,
            })
            .layer(Flatten)
            .layer(dense(3, false, LayerActivation::Softmax))
            .build()
            .unwrap(),
        Sequential::new([6, 8, 2])
            .layer(ZeroPadding2d([[2, 0], [1, 3]]))
            .layer(Conv2d {
                spec: Conv2dSpec::new(5, [2, 3]).strides([2, 1]),
                softmax: Some(false),
            })
            .layer(AveragePooling2d(
                Pool2dSpec::new([3, 2])
                    .strides([1, 2])
                    .padding(Padding::Same),
            ))
            .layer(Identity { class: "Dropout" })
            .layer(ActivationLayer(LayerActivation::Elementwise(
                Activation::Sigmoid,
            )))
            .layer(GlobalPooling2d {
                reduce: Reduce::Average,
                keepdims: false,
            })
            .layer(ActivationLayer(LayerActivation::Softmax))
            .build()
            .unwrap(),
        // Dense with units % 4 == 0 runs on the register-blocked conv kernels, on a 3-D input
        // (each position) and on a flat one.
        Sequential::new([5, 3, 4])
            .layer(dense(
                8,
                true,
                LayerActivation::Elementwise(Activation::Relu),
            ))
            .layer(Flatten)
            .layer(dense(12, false, LayerActivation::Softmax))
            .build()
            .unwrap(),
    ]
}

#[test]
fn built_models_agree_on_gpu_and_cpu_in_any_chunking() {
    let gpu = common::gpu();
    for (i, mut model) in built_models().into_iter().enumerate() {
        randomize(&mut model, i as u64);
        let mut rng = common::Rng::new(100 + i as u64);
        let mut shape = vec![5];
        shape.extend_from_slice(model.input_shape());
        let x = common::uniform_tensor(&mut rng, &shape);
        let cpu = model.run_reference(&x).unwrap();
        for max_batch in [1, 2, 5, 64] {
            let mut compiled = model.compile(gpu, max_batch).unwrap();
            assert_eq!(compiled.chunk_size(), max_batch.min(64));
            assert_close(
                &compiled.run(&x).unwrap(),
                &cpu,
                1e-5,
                &format!("model {i}, chunks of {max_batch}"),
            );
        }
    }
}

#[test]
fn a_compiled_model_runs_batches_of_any_size_one_after_another() {
    // The program rewrites its dispatch parameters only when the batch size changes: each run
    // here changes it (1, then chunks of 4 and 1, then 2, 2 again, then 4 and 1) or keeps it.
    let gpu = common::gpu();
    let mut model = built_models().remove(0);
    randomize(&mut model, 11);
    let mut compiled = model.compile(gpu, 4).unwrap();
    let mut rng = common::Rng::new(12);
    for batch in [1, 5, 2, 2, 5] {
        let mut shape = vec![batch];
        shape.extend_from_slice(model.input_shape());
        let x = common::uniform_tensor(&mut rng, &shape);
        assert_close(
            &compiled.run(&x).unwrap(),
            &model.run_reference(&x).unwrap(),
            1e-5,
            &format!("batch {batch}"),
        );
    }
}

#[test]
fn tight_device_limits_shrink_the_chunks() {
    let mut model = built_models().remove(0);
    randomize(&mut model, 9);
    // The widest activation is 9·7·4 floats = 1008 bytes per example: 3 fit in 4 KiB.
    let mut limits = common::gpu().limits().clone();
    limits.max_storage_buffer_binding_size = 4096;
    let small = wgcnn::Gpu::with_options(wgcnn::GpuOptions {
        limits: Some(limits.clone()),
        ..common::options()
    })
    .unwrap();
    let mut compiled = model.compile(&small, 100).unwrap();
    assert_eq!(compiled.chunk_size(), 4096 / (9 * 7 * 4 * 4));
    let x = common::uniform_tensor(&mut common::Rng::new(3), &[7, 9, 7, 3]);
    assert_close(
        &compiled.run(&x).unwrap(),
        &model.run_reference(&x).unwrap(),
        1e-5,
        "chunked",
    );

    // Not even one example fits: a limit error, before any allocation.
    limits.max_storage_buffer_binding_size = 512;
    let tiny = wgcnn::Gpu::with_options(wgcnn::GpuOptions {
        limits: Some(limits),
        ..common::options()
    })
    .unwrap();
    let err = model.compile(&tiny, 1).unwrap_err();
    assert!(matches!(err, wgcnn::Error::LimitExceeded { .. }), "{err}");
}

#[test]
fn bad_inputs_and_missing_weights_are_errors() {
    let gpu = common::gpu();
    let model = built_models().remove(0);
    let err = model.compile(gpu, 4).unwrap_err();
    assert!(matches!(err, wgcnn::Error::ModelWeights { .. }), "{err}");
    assert!(model
        .run_reference(&wgcnn::Tensor::from_fn(vec![1, 9, 7, 3], |_| 0.0).unwrap())
        .is_err());

    let mut model = model;
    randomize(&mut model, 1);
    let wrong = wgcnn::Tensor::from_fn(vec![2, 7, 9, 3], |_| 0.0).unwrap();
    let mut compiled = model.compile(gpu, 4).unwrap();
    assert!(matches!(
        compiled.run(&wrong),
        Err(wgcnn::Error::InputShape { .. })
    ));
    assert!(matches!(
        model.run_reference(&wrong),
        Err(wgcnn::Error::InputShape { .. })
    ));
    // Weights of the wrong shape are refused.
    let err = model
        .set_weights(
            "conv2d",
            vec![wgcnn::Tensor::from_fn(vec![3, 3, 2, 4], |_| 0.0).unwrap()],
        )
        .unwrap_err();
    assert!(err.to_string().contains("expected weights"), "{err}");
}

#[test]
fn a_loaded_input_stays_resident_across_runs() {
    let gpu = common::gpu();
    let mut model = built_models().remove(1);
    randomize(&mut model, 4);
    let x = common::uniform_tensor(&mut common::Rng::new(8), &[3, 6, 8, 2]);
    let expected = model.run_reference(&x).unwrap();
    let mut compiled = model.compile(gpu, 3).unwrap();
    compiled.load(&[&x]).unwrap();
    for run in 0..3 {
        assert_close(
            &compiled.run_loaded().unwrap()[0],
            &expected,
            1e-5,
            &format!("run {run}"),
        );
    }
    let too_many = common::uniform_tensor(&mut common::Rng::new(8), &[4, 6, 8, 2]);
    assert!(matches!(
        compiled.load(&[&too_many]),
        Err(wgcnn::Error::LimitExceeded { .. })
    ));
}

#[test]
fn fast_cpu_backend_matches_keras() {
    for name in ["every_layer", "functional_chain"] {
        let model = Model::load(fixture(&format!("{name}.keras"))).unwrap();
        let x = read_npy(fixture(&format!("{name}.input.npy"))).unwrap();
        let expected = read_npy(fixture(&format!("{name}.output.npy"))).unwrap();
        assert_close(
            &model.run_cpu(&x).unwrap(),
            &expected,
            KERAS_TOLERANCE,
            name,
        );
    }
}

/// A device whose bindings hold at most `bytes`.
fn gpu_with_binding_limit(bytes: u64) -> wgcnn::Gpu {
    let mut limits = common::gpu().limits().clone();
    limits.max_storage_buffer_binding_size = bytes;
    wgcnn::Gpu::with_options(wgcnn::GpuOptions {
        limits: Some(limits),
        ..common::options()
    })
    .unwrap()
}

/// A device that takes the untuned choices (a Dense over at most 4 rows splits its reduction),
/// with an optional binding limit.
fn untuned_gpu(binding_limit: Option<u64>) -> wgcnn::Gpu {
    let mut limits = common::gpu().limits().clone();
    if let Some(bytes) = binding_limit {
        limits.max_storage_buffer_binding_size = bytes;
    }
    wgcnn::Gpu::with_options(wgcnn::GpuOptions {
        limits: Some(limits),
        autotune: false,
        ..common::options()
    })
    .unwrap()
}

#[test]
fn long_dense_reductions_run_split_and_large_kernels_in_blocks() {
    // 3000 inputs over a handful of rows: untuned, the reduction is split into slices; tuned,
    // whichever of that and the Conv2D kernels measured faster.
    let mut head = Sequential::new([3000])
        .layer(dense(
            37,
            true,
            LayerActivation::Elementwise(Activation::Relu),
        ))
        .layer(dense(5, false, LayerActivation::Softmax))
        .build()
        .unwrap();
    randomize(&mut head, 21);
    let x = common::uniform_tensor(&mut common::Rng::new(22), &[3, 3000]);
    let expected = head.run_reference(&x).unwrap();
    let untuned = untuned_gpu(None);
    let mut compiled = head.compile(&untuned, 3).unwrap();
    assert_close(&compiled.run(&x).unwrap(), &expected, 1e-5, "split-K");
    let tol = common::reduction_tolerance(3000);
    let mut compiled = head.compile(common::gpu(), 3).unwrap();
    assert_close(&compiled.run(&x).unwrap(), &expected, tol, "tuned");
    // The same with the 3000 × 37 kernel (444 KB) larger than a 128 KiB binding: it runs in
    // blocks of units, each written into its columns of the output.
    let small = untuned_gpu(Some(128 * 1024));
    let mut compiled = head.compile(&small, 3).unwrap();
    assert_close(
        &compiled.run(&x).unwrap(),
        &expected,
        1e-5,
        "split-K in blocks",
    );

    // Many rows (70 per example) take the Conv2D kernels; a 3000 × 100 kernel (1.2 MB) over a
    // 1 MB binding runs in two blocks there too.
    let mut wide = Sequential::new([70, 3000])
        .layer(dense(
            100,
            true,
            LayerActivation::Elementwise(Activation::Tanh),
        ))
        .build()
        .unwrap();
    randomize(&mut wide, 23);
    let x = common::uniform_tensor(&mut common::Rng::new(24), &[2, 70, 3000]);
    let expected = wide.run_reference(&x).unwrap();
    let limited = gpu_with_binding_limit(1024 * 1024);
    let mut compiled = wide.compile(&limited, 2).unwrap();
    // One float32 sum of 3000 terms per output on this path: the usual reduction tolerance.
    assert_close(
        &compiled.run(&x).unwrap(),
        &expected,
        tol,
        "blocks of units",
    );

    // A single kernel column larger than a binding cannot be split by units: a clear error.
    let tiny = gpu_with_binding_limit(8 * 1024);
    let err = head.compile(&tiny, 1).unwrap_err();
    assert!(
        err.to_string().contains("one column of the kernel"),
        "{err}"
    );
}

#[test]
fn vgg16_with_its_top_at_224_runs_on_the_gpu_under_the_default_binding_limit() {
    // VGG16's layout (13 convolutions, 5 poolings, three Dense layers). Its fc1 kernel is
    // 25088 × 4096 floats = 411 MB, past WebGPU's default 128 MiB binding: it must run in
    // blocks of units rather than be refused.
    let conv = |filters| {
        Conv2d::new(
            Conv2dSpec::new(filters, [3, 3])
                .padding(Padding::Same)
                .activation(Activation::Relu),
        )
    };
    let pool = || MaxPooling2d(Pool2dSpec::new([2, 2]));
    let mut builder = Sequential::new([224, 224, 3]);
    for (convs, filters) in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)] {
        for _ in 0..convs {
            builder = builder.layer(conv(filters));
        }
        builder = builder.layer(pool());
    }
    let relu = LayerActivation::Elementwise(Activation::Relu);
    let mut vgg = builder
        .layer(Flatten)
        .layer(dense(4096, true, relu))
        .layer(dense(4096, true, relu))
        .layer(dense(1000, true, LayerActivation::Softmax))
        .build()
        .unwrap();
    vgg.fill_synthetic_weights().unwrap();
    let default_binding = wgcnn::wgpu::Limits::default().max_storage_buffer_binding_size;
    assert!(25088 * 4096 * 4 > default_binding);
    let mut limits = common::gpu().limits().clone();
    limits.max_storage_buffer_binding_size = default_binding;
    // Autotuning would time every variant of thirteen large convolutions on a software adapter.
    let gpu = wgcnn::Gpu::with_options(wgcnn::GpuOptions {
        limits: Some(limits),
        autotune: false,
        ..common::options()
    })
    .unwrap();
    let x = common::uniform_tensor(&mut common::Rng::new(31), &[1, 224, 224, 3]);
    let expected = vgg.run_cpu(&x).unwrap();
    let mut compiled = vgg.compile(&gpu, 1).unwrap();
    // Softmax over 1000 classes of sums of up to 25088 float32 terms.
    assert_close(
        &compiled.run(&x).unwrap(),
        &expected,
        common::reduction_tolerance(25088),
        "VGG16 on the GPU vs the CPU backend",
    );
}

#[test]
fn global_pooling_splits_large_planes_into_runs_and_keeps_nan() {
    // Planes of 1 pixel, one run (7×7), several runs (40×50: 2000 pixels), a last run shorter
    // than the others (67×3), and more pixels than 256 runs of 64 (130×130); batches of 1–3.
    for (k, (h, w, c, batch)) in [
        (1, 1, 6, 2),
        (7, 7, 9, 3),
        (40, 50, 5, 3),
        (67, 3, 4, 1),
        (130, 130, 3, 2),
    ]
    .into_iter()
    .enumerate()
    {
        let shape = [batch, h, w, c];
        let x = common::uniform_tensor(&mut common::Rng::new(40 + k as u64), &shape);
        let plane = h * w * c;
        // Example 0, channel 1: a NaN in the last pixel (the last run); the last example,
        // channel 0: +inf in its second pixel (or its only one), so average and max are +inf.
        let mut data = x.data().to_vec();
        data[plane - c + 1] = f32::NAN;
        data[(batch - 1) * plane + if h * w > 1 { c } else { 0 }] = f32::INFINITY;
        let x = wgcnn::Tensor::new(shape.to_vec(), data).unwrap();
        for reduce in [Reduce::Average, Reduce::Max] {
            for keepdims in [false, true] {
                let model = Sequential::new([h, w, c])
                    .layer(GlobalPooling2d { reduce, keepdims })
                    .build()
                    .unwrap();
                let expected = model.run_reference(&x).unwrap();
                let y = model
                    .compile(common::gpu(), batch)
                    .unwrap()
                    .run(&x)
                    .unwrap();
                let what = format!("{h}×{w}×{c} batch {batch} {reduce:?} keepdims {keepdims}");
                assert_close(&y, &expected, common::reduction_tolerance(h * w), &what);
                assert!(y.data()[1].is_nan(), "{what}: NaN kept");
                assert_eq!(y.data()[(batch - 1) * c], f32::INFINITY, "{what}");
            }
        }
    }
}

#[test]
fn zero_padding_before_a_convolution_is_gathered_by_it_on_the_gpu() {
    use wgcnn::layers::DepthwiseConv2d;
    use wgcnn::DepthwiseSpec;
    let mut depthwise = DepthwiseSpec::new([3, 3]);
    depthwise.strides = [2, 2];
    let mut model = Sequential::new([11, 9, 4])
        // Folded: read by the Conv2D alone.
        .layer(ZeroPadding2d([[1, 2], [0, 1]]))
        .layer(Conv2d::new(Conv2dSpec::new(8, [3, 3]).strides([2, 1])))
        // Folded into the DepthwiseConv2D.
        .layer(ZeroPadding2d([[0, 1], [0, 1]]))
        .layer(DepthwiseConv2d(depthwise))
        // Not folded: pooling does not read padding as zeros.
        .layer(ZeroPadding2d([[1, 1], [1, 1]]))
        .layer(MaxPooling2d(Pool2dSpec::new([2, 2])))
        // Not folded: the model's output.
        .layer(ZeroPadding2d([[1, 0], [0, 2]]))
        .build()
        .unwrap();
    randomize(&mut model, 31);
    let fused = model.fused_layers(true).unwrap();
    let names: Vec<&str> = model.layers().iter().map(|l| l.name.as_str()).collect();
    let into = |i: usize| fused[i].map(|f| names[f]);
    let pads: Vec<usize> = (0..names.len())
        .filter(|&i| model.layers()[i].class_name == "ZeroPadding2D")
        .collect();
    assert_eq!(
        pads.iter().map(|&i| into(i)).collect::<Vec<_>>(),
        [Some("conv2d"), Some("depthwise_conv2d"), None, None]
    );
    // The CPU's plan folds no padding.
    assert!(pads
        .iter()
        .all(|&i| model.fused_layers(false).unwrap()[i].is_none()));
    let x = common::uniform_tensor(&mut common::Rng::new(32), &[3, 11, 9, 4]);
    let expected = model.run_reference(&x).unwrap();
    let mut compiled = model.compile(common::gpu(), 3).unwrap();
    // Conv2D, DepthwiseConv2D, padding, pooling, padding: two padding passes fewer.
    assert_eq!(compiled.dispatches(), 5);
    assert_close(
        &compiled.run(&x).unwrap(),
        &expected,
        common::reduction_tolerance(36),
        "folded paddings",
    );
}

/// ResNet's `conv → bn → add(shortcut) → relu` on the GPU: the Conv2D absorbs the
/// BatchNormalization, the Add and the ReLU, reading the shortcut as it stores each output (one
/// dispatch where there were two); a grouped Conv2D that runs as a depthwise one adds the
/// shortcut in place after it. Both match the reference.
#[test]
fn a_residual_add_is_fused_into_the_convolution_on_the_gpu() {
    let layer = |name: &str, class: &str, config: &str, inputs: &[&str]| {
        let args: Vec<String> = inputs
            .iter()
            .map(|i| {
                format!(
                    r#"{{"class_name": "__keras_tensor__", "config": {{"keras_history": ["{i}", 0, 0]}}}}"#
                )
            })
            .collect();
        let args = if inputs.len() > 1 {
            format!("[[{}]]", args.join(", "))
        } else {
            format!("[{}]", args.join(", "))
        };
        format!(
            r#"{{"class_name": "{class}", "name": "{name}", "config": {{"name": "{name}"{config}}}, "inbound_nodes": [{{"args": {args}, "kwargs": {{}}}}]}}"#
        )
    };
    for (filters, groups) in [(8, 1), (8, 8)] {
        let conv = format!(
            r#", "filters": {filters}, "kernel_size": [3, 3], "padding": "same", "groups": {groups}"#
        );
        let layers = [
            r#"{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [null, 9, 7, 8]}, "inbound_nodes": []}"#.to_string(),
            layer("conv", "Conv2D", &conv, &["x"]),
            layer("bn", "BatchNormalization", "", &["conv"]),
            layer("add", "Add", "", &["bn", "x"]),
            layer("relu", "ReLU", "", &["add"]),
        ];
        let json = format!(
            r#"{{"class_name": "Functional", "config": {{"name": "block", "layers": [{}], "input_layers": [["x", 0, 0]], "output_layers": [["relu", 0, 0]]}}}}"#,
            layers.join(", ")
        );
        let mut model = Model::from_json(&json).unwrap();
        randomize(&mut model, 71);
        let fused = model.fused_layers(true).unwrap();
        let conv_index = model
            .layers()
            .iter()
            .position(|l| l.name == "conv")
            .unwrap();
        let into_conv: Vec<&str> = model
            .layers()
            .iter()
            .zip(&fused)
            .filter(|(_, f)| **f == Some(conv_index))
            .map(|(l, _)| l.name.as_str())
            .collect();
        assert_eq!(into_conv, ["bn", "add", "relu"], "groups {groups}");
        let x = common::uniform_tensor(&mut common::Rng::new(72), &[3, 9, 7, 8]);
        let expected = model.run_reference(&x).unwrap();
        let mut compiled = model.compile(common::gpu(), 3).unwrap();
        // The convolution alone, or a depthwise pass and the in-place add.
        assert_eq!(compiled.dispatches(), if groups == 1 { 1 } else { 2 });
        assert_close(
            &compiled.run(&x).unwrap(),
            &expected,
            common::reduction_tolerance(9 * 8),
            &format!("residual block, groups {groups}"),
        );
    }
}
