//! `wgcnn bench`: honest timings of Conv2D on each backend, side by side.
//!
//! GPU: the input is already resident on the device; a run is from dispatch until the output
//! is back on the host. CPU backends: a run is one call on data already in memory. Each backend
//! gets warm-up runs first (pipeline compilation, caches), then `repeat` timed runs; the table
//! reports the median, min and max, and GFLOP/s from the median (2 FLOPs per multiply-add).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use wgcnn::model::Sequential;
use wgcnn::{cpu, reference, Conv2dSpec, Gpu, Tensor};

use crate::Backend;

/// One backend's timings.
pub(crate) struct Timing {
    pub backend: &'static str,
    pub device: String,
    pub runs: Vec<Duration>,
}

impl Timing {
    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    /// (median, min, max) in milliseconds.
    pub fn stats(&self) -> (f64, f64, f64) {
        let ms = self.sorted_ms();
        let n = ms.len();
        let median = if n % 2 == 1 {
            ms[n / 2]
        } else {
            (ms[n / 2 - 1] + ms[n / 2]) / 2.0
        };
        (median, ms[0], ms[n - 1])
    }
}

/// Deterministic data in [-1, 1): benchmarks need values, not randomness.
fn data(shape: &[usize], salt: usize) -> wgcnn::Result<Tensor> {
    Tensor::from_fn(shape.to_vec(), |i| {
        (((i * 7919 + salt * 104_729) % 2001) as f32 - 1000.0) / 1000.0
    })
}

/// Times `f` `warmup + repeat` times, keeping the last `repeat`; shows progress on a terminal
/// when the runs are slow.
fn time_runs(
    label: &str,
    warmup: usize,
    repeat: usize,
    mut f: impl FnMut() -> wgcnn::Result<()>,
) -> wgcnn::Result<Vec<Duration>> {
    for _ in 0..warmup {
        f()?;
    }
    let show = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut runs = Vec::with_capacity(repeat);
    for i in 0..repeat {
        let t = Instant::now();
        f()?;
        runs.push(t.elapsed());
        if show && started.elapsed() > Duration::from_secs(1) {
            let filled = (i + 1) * 30 / repeat;
            eprint!(
                "\r{label:>10} [{}{}] {}/{repeat}",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                i + 1
            );
        }
    }
    if show && started.elapsed() > Duration::from_secs(1) {
        eprint!("\r{}\r", " ".repeat(60));
    }
    Ok(runs)
}

/// Benchmarks one Conv2D on each requested backend.
pub(crate) fn conv2d(
    input_shape: [usize; 4],
    spec: Conv2dSpec,
    backends: &[Backend],
    warmup: usize,
    repeat: usize,
) -> wgcnn::Result<(f64, Vec<Timing>)> {
    let [n, h, w, c] = input_shape;
    let out = spec.output_shape(input_shape)?;
    let flops = 2.0
        * out.iter().product::<usize>() as f64
        * (spec.kernel_size[0] * spec.kernel_size[1] * c) as f64;
    let x = data(&input_shape, 1)?;
    let k = data(&spec.kernel_shape(c), 2)?;
    let b = spec
        .use_bias
        .then(|| data(&[spec.filters], 3))
        .transpose()?;
    let mut timings = Vec::new();
    for backend in backends {
        let timing = match backend {
            Backend::Gpu => {
                let gpu = Gpu::new()?;
                let mut model = Sequential::new([h, w, c]).conv2d(spec).build()?;
                let weights: Vec<Tensor> = std::iter::once(k.clone()).chain(b.clone()).collect();
                model.set_weights("conv2d", weights)?;
                let mut compiled = gpu.compile(&model, n)?;
                compiled.load(&x)?;
                let runs = time_runs("gpu", warmup, repeat, || compiled.run_loaded().map(drop))?;
                Timing {
                    backend: "gpu",
                    device: crate::gpu_name(&gpu),
                    runs,
                }
            }
            Backend::Cpu => Timing {
                backend: "cpu",
                device: cpu_name(),
                runs: time_runs("cpu", warmup, repeat, || {
                    cpu::conv2d(&spec, &x, &k, b.as_ref()).map(drop)
                })?,
            },
            Backend::Reference => Timing {
                backend: "reference",
                device: "cpu: plain loops, 1 thread".into(),
                runs: time_runs("reference", warmup, repeat, || {
                    reference::conv2d(&spec, &x, &k, b.as_ref()).map(drop)
                })?,
            },
        };
        timings.push(timing);
    }
    Ok((flops, timings))
}

pub(crate) fn cpu_name() -> String {
    format!("cpu: gemm, {} threads", rayon::current_num_threads())
}

/// The readable table.
pub(crate) fn print_table(title: &str, flops: f64, timings: &[Timing]) {
    println!("{title}  ({:.3} GFLOP per run)", flops / 1e9);
    println!(
        "{:<10} {:<44} {:>10} {:>10} {:>10} {:>9} {:>5}",
        "backend", "device", "median ms", "min ms", "max ms", "GFLOP/s", "runs"
    );
    for t in timings {
        let (median, min, max) = t.stats();
        println!(
            "{:<10} {:<44} {:>10.2} {:>10.2} {:>10.2} {:>9.2} {:>5}",
            t.backend,
            t.device,
            median,
            min,
            max,
            flops / (median / 1e3) / 1e9,
            t.runs.len()
        );
    }
    if let (Some(gpu), Some(cpu)) = (
        timings.iter().find(|t| t.backend == "gpu"),
        timings.iter().find(|t| t.backend == "cpu"),
    ) {
        let ratio = cpu.stats().0 / gpu.stats().0;
        if ratio >= 1.0 {
            println!("gpu is {ratio:.2}× faster than cpu");
        } else {
            println!("cpu is {:.2}× faster than gpu", 1.0 / ratio);
        }
    }
}

/// One JSON object per line, per backend.
pub(crate) fn print_json(workload: serde_json::Value, flops: f64, timings: &[Timing]) {
    for t in timings {
        let (median, min, max) = t.stats();
        let mut line = serde_json::json!({
            "backend": t.backend,
            "adapter": t.device,
            "runs": t.runs.len(),
            "median_ms": median,
            "min_ms": min,
            "max_ms": max,
            "gflops": flops / (median / 1e3) / 1e9,
            "gflop_per_run": flops / 1e9,
        });
        if let (Some(obj), Some(extra)) = (line.as_object_mut(), workload.as_object()) {
            obj.extend(extra.clone());
        }
        println!("{line}");
    }
}
