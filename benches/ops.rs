//! GPU against the CPU reference on the seed documents' layers.
//!
//! Each GPU call uploads its input, dispatches, and returns only once the output is back on the
//! host, so the timed region includes the full device round-trip. Throughput is reported in
//! floating-point operations (2 per multiply-add) for conv, elements for pooling.
//!
//! `cargo bench --bench ops` (set WGPU_BACKEND to pick the adapter).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wgcnn::{reference, Conv2dSpec, Gpu, Padding, Pool2dSpec, Tensor};

fn tensor(shape: &[usize]) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |i| ((i * 7919) % 13) as f32 - 6.0).expect("bench shape")
}

fn conv2d(c: &mut Criterion) {
    let gpu = Gpu::new().expect("the GPU benchmarks need an adapter");
    let cases = [
        (
            "seed000_128x128x3_32f_3x3_s2_same",
            [1, 128, 128, 3],
            Conv2dSpec::new(32, [3, 3])
                .strides([2, 2])
                .padding(Padding::Same),
        ),
        (
            "seed004_24x24x32_64f_5x5_valid",
            [1, 24, 24, 32],
            Conv2dSpec::new(64, [5, 5]).use_bias(false),
        ),
    ];
    let mut group = c.benchmark_group("conv2d");
    group.sample_size(10);
    for (name, shape, spec) in cases {
        let x = tensor(&shape);
        let k = tensor(&spec.kernel_shape(shape[3]));
        let b = spec.use_bias.then(|| tensor(&[spec.filters]));
        let out = spec.output_shape(shape).expect("bench config");
        let macs =
            out.iter().product::<usize>() * spec.kernel_size[0] * spec.kernel_size[1] * shape[3];
        group.throughput(Throughput::Elements(2 * macs as u64));
        group.bench_function(BenchmarkId::new("gpu", name), |bench| {
            bench.iter(|| gpu.conv2d(&spec, &x, &k, b.as_ref()).expect("gpu conv2d"))
        });
        group.bench_function(BenchmarkId::new("reference", name), |bench| {
            bench.iter(|| reference::conv2d(&spec, &x, &k, b.as_ref()).expect("cpu conv2d"))
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
    group.bench_function("gpu/seed001_8x100x100x15_2x2", |bench| {
        bench.iter(|| gpu.max_pool2d(&spec, &x).expect("gpu max_pool2d"))
    });
    group.bench_function("reference/seed001_8x100x100x15_2x2", |bench| {
        bench.iter(|| reference::max_pool2d(&spec, &x).expect("cpu max_pool2d"))
    });
    group.finish();
}

criterion_group!(benches, conv2d, max_pool2d);
criterion_main!(benches);
