//! Times every Conv2D kernel variant on one shape, on the adapter wgpu picks: what the
//! autotuner measures, shown. Upload and readback are included and are the same for every
//! variant.
//!
//! cargo run --release --example variants -- 32,32,32,32 32 3

use std::time::Instant;

use wgcnn::gpu::ConvVariant;
use wgcnn::{Conv2dSpec, Gpu, Tensor};

/// Timed runs per variant, after one warm-up run.
const RUNS: usize = 11;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape: Vec<usize> = args
        .first()
        .map_or("32,32,32,32", String::as_str)
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [n, h, w, c] = <[usize; 4]>::try_from(shape).map_err(|_| "shape must be N,H,W,C")?;
    let filters: usize = args.get(1).map_or(Ok(32), |f| f.parse())?;
    let k: usize = args.get(2).map_or(Ok(3), |k| k.parse())?;
    let spec = Conv2dSpec::new(filters, [k, k]);
    let x = Tensor::from_fn(vec![n, h, w, c], |i| (i % 7) as f32 - 3.0)?;
    let kernel = Tensor::from_fn(spec.kernel_shape(c).to_vec(), |i| (i % 5) as f32 - 2.0)?;
    let bias = Tensor::from_fn(vec![filters], |_| 0.5)?;
    let gpu = Gpu::new()?;
    println!(
        "{} on {}",
        format_args!("conv2d {n}×{h}×{w}×{c} → {filters} filters {k}×{k}"),
        gpu.adapter_info().name
    );
    for variant in ConvVariant::ALL.into_iter().filter(|v| v.supports(filters)) {
        gpu.conv2d_with(variant, &spec, &x, &kernel, Some(&bias))?; // warm-up
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            gpu.conv2d_with(variant, &spec, &x, &kernel, Some(&bias))?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{variant:?}: median {:.2} ms, min {:.2} ms",
            times[RUNS / 2],
            times[0]
        );
    }
    Ok(())
}
