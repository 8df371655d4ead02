//! The five Conv2D workloads on Burn's wgpu and flex backends, timed like
//! `wgcnn bench conv2d`: input already on the device, from the call until the output is back
//! on the host (`into_data`), median of 7 runs after 2 warm-up runs. Burn is NCHW; the shapes are the same
//! workloads transposed. 'same' for these odd kernels at stride 1 is a symmetric pad of 1.
//!
//! Caveat, seen on lavapipe with Burn 0.22.1: the wgpu backend's timed runs return in
//! ~0.05 ms (with occasional multi-second outliers), far too fast for the work, so `into_data`
//! is not waiting for a fresh computation here and those numbers are not usable; the flex
//! (CPU) numbers are. See the README's performance section.

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
            y.into_data();
            t.elapsed().as_secs_f64() * 1e3
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

fn main() {
    bench("wgpu", WgpuDevice::default().into());
    bench("flex", FlexDevice.into());
}
