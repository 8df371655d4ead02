//! The five Conv2D workloads on Burn's wgpu and flex backends, timed like
//! `wgcnn bench conv2d`: input already on the device, from the call until the output is back
//! on the host, median of 7 runs after 2 warm-up runs. Burn is NCHW; the shapes are the same
//! workloads transposed. 'same' for these odd kernels at stride 1 is a symmetric pad of 1.
//!
//! Burn's `into_data` can return before the device has computed anything (the values are read
//! lazily): each run therefore reads every output value before the clock stops. Before timing,
//! one small convolution is checked to give the same values on both backends.
//! `BURN_BENCH_SUMS=1` prints each run's output sum and time.

use std::time::Instant;

use burn::backend::flex::FlexDevice;
use burn::backend::wgpu::WgpuDevice;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};

const WORKLOADS: [([usize; 4], usize, usize, usize, usize); 5] = [
    // (N, H, W, C), filters, kernel, stride, padding
    ([32, 32, 32, 32], 32, 3, 1, 0),
    ([32, 15, 15, 32], 64, 3, 1, 1),
    ([1, 224, 224, 64], 64, 3, 1, 0),
    ([1, 54, 54, 128], 256, 3, 1, 1),
    ([8, 200, 200, 1], 16, 2, 2, 0),
];

fn bench(name: &str, device: burn::tensor::Device) {
    for ([n, h, w, c], f, k, s, p) in WORKLOADS {
        let x = Tensor::<4>::random([n, c, h, w], Distribution::Default, &device);
        let wt = Tensor::<4>::random([f, c, k, k], Distribution::Default, &device);
        let b = Tensor::<1>::random([f], Distribution::Default, &device);
        // Each run gets a fresh input (shifted by a different constant, computed before the
        // clock starts and synced), so that no result can be reused from an earlier run.
        let run = |i: usize| {
            let xi = x.clone().add_scalar(i as f32 * 1e-3);
            xi.clone().into_data();
            let t = Instant::now();
            let y = conv2d(
                xi,
                wt.clone(),
                Some(b.clone()),
                ConvOptions::new([s, s], [p, p], [1, 1], 1),
            );
            // Read the values themselves, so that nothing can stay pending.
            let values = y.into_data().to_vec::<f32>().expect("f32 output");
            let elapsed = t.elapsed().as_secs_f64() * 1e3;
            if std::env::var_os("BURN_BENCH_SUMS").is_some() {
                eprintln!(
                    "{name} run {i}: output sum {} in {elapsed:.2} ms",
                    values.iter().sum::<f32>()
                );
            }
            elapsed
        };
        for i in 0..2 {
            run(i);
        }
        let mut times: Vec<f64> = (2..9).map(run).collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<6} {n}x{h}x{w}x{c} -> {f} {k}x{k} s{s}: median {:.2} ms (min {:.2}, max {:.2})",
            times[3], times[0], times[6]
        );
    }
}

/// The same convolution on both backends, from the same data: are the outputs equal?
fn agree() {
    let (wgpu, flex): (burn::tensor::Device, burn::tensor::Device) =
        (WgpuDevice::default().into(), FlexDevice.into());
    let x = Tensor::<4>::random([2, 3, 9, 9], Distribution::Default, &flex);
    let w = Tensor::<4>::random([4, 3, 3, 3], Distribution::Default, &flex);
    let opts = || ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let on = |d: &burn::tensor::Device| {
        let xd = Tensor::<4>::from_data(x.clone().into_data(), d);
        let wd = Tensor::<4>::from_data(w.clone().into_data(), d);
        conv2d(xd, wd, None, opts())
            .into_data()
            .to_vec::<f32>()
            .expect("f32")
    };
    let (a, b) = (on(&wgpu), on(&flex));
    let diff = a
        .iter()
        .zip(&b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!(
        "wgpu vs flex on one conv: {} values, max |diff| {diff}, wgpu sum {}, flex sum {}",
        a.len(),
        a.iter().sum::<f32>(),
        b.iter().sum::<f32>()
    );
}

fn main() {
    agree();
    bench("wgpu", WgpuDevice::default().into());
    bench("flex", FlexDevice.into());
}
