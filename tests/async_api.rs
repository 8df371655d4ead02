//! The async GPU API, the one a browser build would use, driven here by `pollster`: it must
//! give exactly what the blocking wrappers give (they are the same code), and the single ops
//! must match the CPU reference. A missing adapter fails loudly, as in every GPU test.

mod common;

use std::sync::OnceLock;

use common::{int_tensor, options, Rng};
use wgcnn::gpu::{list_adapters, list_adapters_async, ConvVariant};
use wgcnn::npy::read_npy;
use wgcnn::{reference, Conv2dSpec, Error, Gpu, Model, Padding, Pool2dSpec, Tensor};

/// One device for this file, opened through the async constructor.
fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| {
        pollster::block_on(Gpu::with_options_async(options())).unwrap_or_else(|e| {
            panic!(
                "GPU tests need an adapter and found none ({e}); install Mesa lavapipe \
                 (apt-get install mesa-vulkan-drivers) or run with WGPU_BACKEND=gl on llvmpipe"
            )
        })
    })
}

fn models(name: &str) -> String {
    format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn new_async_opens_the_adapter_new_opens() {
    let sync = Gpu::with_options(options()).expect("the blocking constructor");
    assert_eq!(gpu().adapter_info(), sync.adapter_info());
    assert_eq!(gpu().limits(), sync.limits());
    let default = pollster::block_on(Gpu::new_async()).expect("Gpu::new_async");
    assert_eq!(default.adapter_info(), sync.adapter_info());
}

#[test]
fn list_adapters_async_lists_what_list_adapters_lists() {
    let listed = pollster::block_on(list_adapters_async());
    assert_eq!(listed, list_adapters());
    let selected: Vec<_> = listed.iter().filter(|a| a.selected).collect();
    assert_eq!(selected.len(), 1, "one adapter is the one used: {listed:?}");
    assert_eq!(selected[0].name, gpu().adapter_info().name);
}

#[test]
fn model_compiled_and_run_async_equals_the_blocking_run() {
    let model = Model::load(models("cifar10.keras")).unwrap();
    let x = read_npy(models("cifar10.input.npy")).unwrap();
    let gpu = gpu();
    let (y_async, loaded_async) = pollster::block_on(async {
        let mut compiled = model.compile_async(gpu, 2).await?;
        let y = compiled.run_async(&x).await?;
        let many = compiled.run_many_async(&[&x]).await?;
        assert_eq!(many.len(), 1);
        assert_eq!(many[0], y, "run_many_async and run_async differ");
        compiled.load(&[&x])?;
        let loaded = compiled.run_loaded_async().await?;
        Ok::<_, Error>((y, loaded))
    })
    .unwrap();
    assert_eq!(y_async.shape(), &[2, 10]);
    assert_eq!(loaded_async, vec![y_async.clone()]);

    // The same device, so the autotuner's choices (and thus the kernels) are the same: the
    // blocking wrappers must give the same bits.
    let mut compiled = model.compile(gpu, 2).unwrap();
    assert_eq!(compiled.run(&x).unwrap(), y_async);

    // And both agree with the CPU reference.
    let cpu = model.run_reference(&x).unwrap();
    for (a, b) in y_async.data().iter().zip(cpu.data()) {
        assert!((a - b).abs() < 1e-5, "gpu {a} vs reference {b}");
    }
}

#[test]
fn async_errors_are_values() {
    let model = Model::load(models("cifar10.keras")).unwrap();
    let wrong = Tensor::from_fn(vec![1, 8, 8, 3], |_| 0.0).unwrap();
    let err = pollster::block_on(async {
        let mut compiled = model.compile_async(gpu(), 1).await?;
        compiled.run_async(&wrong).await
    })
    .unwrap_err();
    assert!(
        matches!(err.root(), Error::InputShape { .. }),
        "unexpected error: {err}"
    );
}

#[test]
fn conv2d_async_matches_the_reference_exactly() {
    let mut rng = Rng::new(7);
    for (filters, cin, padding) in [
        (2, 1, Padding::Same),
        (8, 4, Padding::Valid),
        (5, 3, Padding::Same),
    ] {
        let spec = Conv2dSpec::new(filters, [3, 2])
            .strides([2, 1])
            .padding(padding)
            .use_bias(true);
        let x = int_tensor(&mut rng, &[2, 7, 6, cin], 3);
        let k = int_tensor(&mut rng, &spec.kernel_shape(cin), 2);
        let b = int_tensor(&mut rng, &[filters], 4);
        // Integer-valued data: every partial sum is exact, so all kernels must agree bit for bit.
        let expected = reference::conv2d(&spec, &x, &k, Some(&b)).unwrap();
        let gpu = gpu();
        let y = pollster::block_on(gpu.conv2d_async(&spec, &x, &k, Some(&b))).unwrap();
        assert_eq!(
            y, expected,
            "conv2d_async, {filters} filters, {cin} channels"
        );
        for variant in ConvVariant::ALL.into_iter().filter(|v| v.supports(filters)) {
            let y = pollster::block_on(gpu.conv2d_with_async(variant, &spec, &x, &k, Some(&b)))
                .unwrap();
            assert_eq!(
                y, expected,
                "{variant:?}, {filters} filters, {cin} channels"
            );
        }
        assert_eq!(gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap(), expected);
    }
}

#[test]
fn max_pool2d_async_matches_the_reference_exactly() {
    let mut rng = Rng::new(11);
    let spec = Pool2dSpec::new([3, 3])
        .strides([2, 2])
        .padding(Padding::Same);
    let x = int_tensor(&mut rng, &[2, 9, 7, 5], 100);
    let expected = reference::max_pool2d(&spec, &x).unwrap();
    let y = pollster::block_on(gpu().max_pool2d_async(&spec, &x)).unwrap();
    assert_eq!(y, expected);
    assert_eq!(gpu().max_pool2d(&spec, &x).unwrap(), expected);
}

/// On native the async methods' futures are `Send`, so a multi-threaded executor can spawn
/// them (a browser's are not: its WebGPU objects stay on one thread). Compile-time checks.
#[test]
fn async_futures_are_send_on_native() {
    fn send<T: Send>(_: &T) {}
    let model = Model::load(models("cifar10.keras")).unwrap();
    let x = read_npy(models("cifar10.input.npy")).unwrap();
    let gpu = gpu();
    send(&Gpu::new_async());
    send(&list_adapters_async());
    send(&model.compile_async(gpu, 2));
    let mut compiled = pollster::block_on(model.compile_async(gpu, 2)).unwrap();
    send(&compiled.run_async(&x));
    send(&compiled.run_many_async(&[&x]));
    send(&compiled.run_loaded_async());
    let spec = Conv2dSpec::new(4, [3, 3]);
    let k = Tensor::from_fn(spec.kernel_shape(3).to_vec(), |_| 1.0).unwrap();
    send(&gpu.conv2d_async(&spec, &x, &k, None));
    send(&gpu.max_pool2d_async(&Pool2dSpec::new([2, 2]), &x));
}

#[test]
fn borrowed_inputs_run_as_tensors_do() {
    // What the Python bindings do with a numpy array: run on its memory, no Tensor copy.
    let model = Model::load(models("cifar10.keras")).unwrap();
    let x = read_npy(models("cifar10.input.npy")).unwrap();
    let mut compiled = model.compile(gpu(), 2).unwrap();
    let y = compiled.run(&x).unwrap();
    let (shape, data) = (x.shape().to_vec(), x.data().to_vec());
    let view = wgcnn::TensorView::new(&shape, &data).unwrap();
    assert_eq!(compiled.run_views(&[view]).unwrap(), vec![y.clone()]);
    assert_eq!(
        pollster::block_on(compiled.run_views_async(&[view])).unwrap(),
        vec![y]
    );
    // A view whose length disagrees with its shape is refused when it is made.
    assert!(matches!(
        wgcnn::TensorView::new(&shape, &data[1..]),
        Err(Error::DataLength { .. })
    ));
}

#[test]
fn every_kernel_compiles_on_this_adapter() {
    let report = pollster::block_on(gpu().check_kernels_async());
    assert!(report.len() >= 20, "{} kernels", report.len());
    let failed: Vec<String> = report
        .iter()
        .filter_map(|(name, e)| e.as_ref().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
