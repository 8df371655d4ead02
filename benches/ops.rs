//! Criterion benchmarks: GPU (every Conv2D kernel variant), the fast CPU backend and the
//! reference, on layers of the seed documents' models, plus the seed CIFAR-10 model.
//!
//! GPU timings use a compiled model whose input is already resident on the device: one
//! iteration is from dispatch until the output is back on the host (`GpuModel::run_loaded`
//! waits for the device). `cargo bench --bench ops` (set WGPU_BACKEND to pick the adapter);
//! `wgcnn bench` reports the same kind of numbers from the command line.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wgcnn::gpu::ConvVariant;
use wgcnn::model::{Backend, Model, Sequential};
use wgcnn::{cpu, reference, Conv2dSpec, Gpu, GpuOptions, Padding, Pool2dSpec, Tensor};

fn tensor(shape: &[usize]) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |i| ((i * 7919) % 13) as f32 / 6.0 - 1.0).expect("bench shape")
}

/// A one-layer model running `spec` with `variant`, its input loaded on the device.
fn gpu_layer<'g>(gpu: &'g Gpu, spec: Conv2dSpec, shape: [usize; 4]) -> wgcnn::model::GpuModel<'g> {
    let [n, h, w, c] = shape;
    let mut model = Sequential::new([h, w, c])
        .layer(wgcnn::layers::Conv2d::new(spec))
        .build()
        .expect("bench model");
    let weights = std::iter::once(tensor(&spec.kernel_shape(c)))
        .chain(spec.use_bias.then(|| tensor(&[spec.filters])))
        .collect();
    model.set_weights("conv2d", weights).expect("bench weights");
    let mut compiled = model.compile(gpu, n).expect("bench compile");
    compiled.load(&[&tensor(&shape)]).expect("bench input");
    compiled
}

fn conv2d(c: &mut Criterion) {
    let cases = [
        (
            "cifar_conv2_32x32x32x32_32f_3x3",
            [32, 32, 32, 32],
            Conv2dSpec::new(32, [3, 3]),
        ),
        (
            "cifar_conv3_32x15x15x32_64f_3x3_same",
            [32, 15, 15, 32],
            Conv2dSpec::new(64, [3, 3]).padding(Padding::Same),
        ),
        (
            "seed000_8x200x200x1_16f_2x2_s2",
            [8, 200, 200, 1],
            Conv2dSpec::new(16, [2, 2]).strides([2, 2]),
        ),
    ];
    let mut group = c.benchmark_group("conv2d");
    group.sample_size(10);
    for (name, shape, spec) in cases {
        let out = spec.output_shape(shape).expect("bench config");
        let macs =
            out.iter().product::<usize>() * spec.kernel_size[0] * spec.kernel_size[1] * shape[3];
        group.throughput(Throughput::Elements(2 * macs as u64));
        for variant in ConvVariant::ALL
            .into_iter()
            .filter(|v| v.supports(spec.filters))
        {
            let gpu = Gpu::with_options(GpuOptions {
                autotune: false,
                ..GpuOptions::default()
            })
            .expect("the GPU benchmarks need an adapter");
            // Autotuning is off, so the model uses `choose`; time the other variant through
            // the single-op path instead.
            if variant == ConvVariant::choose(&spec) {
                let mut compiled = gpu_layer(&gpu, spec, shape);
                group.bench_function(BenchmarkId::new(format!("gpu_{variant:?}"), name), |b| {
                    b.iter(|| compiled.run_loaded().expect("gpu conv2d"))
                });
            } else {
                let (x, k) = (tensor(&shape), tensor(&spec.kernel_shape(shape[3])));
                let bias = tensor(&[spec.filters]);
                group.bench_function(
                    BenchmarkId::new(format!("gpu_{variant:?}_with_upload"), name),
                    |b| {
                        b.iter(|| {
                            gpu.conv2d_with(variant, &spec, &x, &k, Some(&bias))
                                .expect("gpu conv2d")
                        })
                    },
                );
            }
        }
        let (x, k, bias) = (
            tensor(&shape),
            tensor(&spec.kernel_shape(shape[3])),
            tensor(&[spec.filters]),
        );
        group.bench_function(BenchmarkId::new("cpu", name), |b| {
            b.iter(|| cpu::conv2d(&spec, &x, &k, Some(&bias)).expect("cpu conv2d"))
        });
        group.bench_function(BenchmarkId::new("reference", name), |b| {
            b.iter(|| reference::conv2d(&spec, &x, &k, Some(&bias)).expect("reference conv2d"))
        });
    }
    group.finish();
}

fn max_pool2d(c: &mut Criterion) {
    let gpu = Gpu::new().expect("the GPU benchmarks need an adapter");
    let spec = Pool2dSpec::new([2, 2]);
    let x = tensor(&[8, 100, 100, 15]);
    let mut group = c.benchmark_group("max_pool2d");
    group.sample_size(10);
    group.throughput(Throughput::Elements(x.data().len() as u64));
    group.bench_function("gpu_with_upload/seed001_8x100x100x15_2x2", |b| {
        b.iter(|| gpu.max_pool2d(&spec, &x).expect("gpu max_pool2d"))
    });
    group.bench_function("reference/seed001_8x100x100x15_2x2", |b| {
        b.iter(|| reference::max_pool2d(&spec, &x).expect("cpu max_pool2d"))
    });
    group.finish();
}

fn cifar10_model(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/cifar10.keras");
    let model = Model::load(path).expect("the bundled model");
    let x = tensor(&[32, 32, 32, 3]);
    let gpu = Gpu::new().expect("the GPU benchmarks need an adapter");
    let mut compiled = model.compile(&gpu, 32).expect("compile");
    compiled.load(&[&x]).expect("input");
    let mut group = c.benchmark_group("cifar10_batch32");
    group.sample_size(10);
    group.bench_function("gpu", |b| {
        b.iter(|| compiled.run_loaded().expect("gpu forward"))
    });
    group.bench_function("cpu", |b| {
        b.iter(|| model.run(Backend::Cpu, &x).expect("cpu forward"))
    });
    group.finish();
}

criterion_group!(benches, conv2d, max_pool2d, cifar10_model);
criterion_main!(benches);
