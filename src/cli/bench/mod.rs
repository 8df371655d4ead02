//! `wgcnn bench`: honest timings on each backend, side by side, of one Conv2D (here) or of a
//! whole model, layer by layer ([`model`], charted by [`plot`]).
//!
//! GPU: the input is already resident on the device; a run is from dispatch until the output
//! is back on the host. CPU backends: a run is one call on data already in memory. Each backend
//! gets warm-up runs first (pipeline compilation, caches), then `repeat` timed runs; the table
//! reports the median, min and max, and GFLOP/s from the median (2 FLOPs per multiply-add).

mod model;
mod plot;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use comfy_table::{presets, CellAlignment, Table};
use wgcnn::model::Sequential;
use wgcnn::{cpu, reference, Conv2dSpec, Gpu, Tensor};

use super::backend::{cpu_name, gpu_name};
use super::progress;
use crate::{Backend, BenchArgs, BenchCommand, BenchConv2dArgs, TimingArgs};

/// `wgcnn bench`: a model (`bench MODEL`) or one op (`bench conv2d`).
pub(crate) fn main(args: BenchArgs) -> wgcnn::Result<ExitCode> {
    if let Some(BenchCommand::Conv2d(op)) = args.op {
        return conv2d(op);
    }
    let Some(path) = &args.model else {
        return Err(wgcnn::Error::InvalidConfig {
            op: "bench",
            reason: "give a .keras model or an op (wgcnn bench --help)".into(),
        });
    };
    model::main(path, &args)
}

/// `wgcnn bench conv2d`: times the Conv2D on each backend and prints the table or JSON.
fn conv2d(args: BenchConv2dArgs) -> wgcnn::Result<ExitCode> {
    let BenchConv2dArgs {
        input_shape,
        filters,
        kernel_size,
        conv,
        no_bias,
        timing,
    } = args;
    let spec = conv.spec(filters, kernel_size, !no_bias);
    let (strides, padding, dilation, activation) =
        (spec.strides, spec.padding, spec.dilation, spec.activation);
    spec.plan(input_shape)?;
    let (flops, timings) = time_conv2d(input_shape, spec, &timing)?;
    let [n, h, w, c] = input_shape;
    if timing.json {
        let workload = serde_json::json!({
            "op": "conv2d",
            "input_shape": input_shape,
            "filters": filters,
            "kernel_size": kernel_size,
            "strides": strides,
            "padding": padding.to_string(),
            "dilation_rate": dilation,
            "activation": activation.to_string(),
            "use_bias": !no_bias,
        });
        print_json(workload, flops, &timings);
    } else {
        let title = format!(
            "conv2d {n}×{h}×{w}×{c} → {filters} filters {}×{}, strides {}×{}, \
             dilation {}×{}, {padding}, {activation}{}",
            kernel_size[0],
            kernel_size[1],
            strides[0],
            strides[1],
            dilation[0],
            dilation[1],
            if no_bias { ", no bias" } else { "" }
        );
        print_table(&title, flops, &timings);
    }
    Ok(ExitCode::SUCCESS)
}

/// One backend's timings.
struct Timing {
    backend: &'static str,
    device: String,
    runs: Vec<Duration>,
}

impl Timing {
    /// (median, min, max) in milliseconds.
    fn stats(&self) -> (f64, f64, f64) {
        let ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ms.iter().copied().fold(0.0, f64::max);
        (median(ms), min, max)
    }
}

/// Deterministic data in [-1, 1): benchmarks need values, not randomness.
fn data(shape: &[usize], salt: usize) -> wgcnn::Result<Tensor> {
    Tensor::from_fn(shape.to_vec(), |i| {
        (((i * 7919 + salt * 104_729) % 2001) as f32 - 1000.0) / 1000.0
    })
}

/// Times `f` `warmup + repeat` times, keeping the last `repeat`; a progress bar on a terminal
/// counts the runs.
fn time_runs(
    label: &str,
    warmup: usize,
    repeat: usize,
    mut f: impl FnMut() -> wgcnn::Result<()>,
) -> wgcnn::Result<Vec<Duration>> {
    let bar = progress::bar((warmup + repeat) as u64, label);
    for _ in 0..warmup {
        f()?;
        bar.inc(1);
    }
    let mut runs = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        f()?;
        runs.push(t.elapsed());
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(runs)
}

/// Benchmarks one Conv2D on each requested backend: its FLOPs and the timings.
fn time_conv2d(
    input_shape: [usize; 4],
    spec: Conv2dSpec,
    args: &TimingArgs,
) -> wgcnn::Result<(f64, Vec<Timing>)> {
    let (warmup, repeat) = (args.warmup as usize, args.repeat as usize);
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
    for backend in &args.backend {
        let timing = match backend {
            Backend::Gpu => {
                let gpu = Gpu::new()?;
                let mut model = Sequential::new([h, w, c])
                    .layer(wgcnn::layers::Conv2d::new(spec))
                    .build()?;
                let weights: Vec<Tensor> = std::iter::once(k.clone()).chain(b.clone()).collect();
                model.set_weights("conv2d", weights)?;
                let mut compiled =
                    progress::spinner("compiling and autotuning", || model.compile(&gpu, n))?;
                compiled.load(&[&x])?;
                let runs = time_runs("gpu", warmup, repeat, || compiled.run_loaded().map(drop))?;
                Timing {
                    backend: "gpu",
                    device: gpu_name(&gpu),
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

/// A table in Markdown's pipe layout: aligned whatever the cells hold (adapter names run
/// long), readable in a terminal and pasteable into an issue as is.
fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::ASCII_MARKDOWN)
        .set_header(header.to_vec());
    table
}

/// Right-aligns every column after the first `text_columns`.
fn align_numbers(table: &mut Table, text_columns: usize) {
    for column in table.column_iter_mut().skip(text_columns) {
        column.set_cell_alignment(CellAlignment::Right);
    }
}

/// The readable table.
fn print_table(title: &str, flops: f64, timings: &[Timing]) {
    println!("{title}  ({:.3} GFLOP per run)", flops / 1e9);
    let mut t = table(&[
        "backend",
        "device",
        "median ms",
        "min ms",
        "max ms",
        "GFLOP/s",
        "runs",
    ]);
    for timing in timings {
        let (median, min, max) = timing.stats();
        t.add_row(vec![
            timing.backend.to_string(),
            timing.device.clone(),
            format!("{median:.2}"),
            format!("{min:.2}"),
            format!("{max:.2}"),
            format!("{:.2}", flops / (median / 1e3) / 1e9),
            timing.runs.len().to_string(),
        ]);
    }
    align_numbers(&mut t, 2);
    println!("{t}");
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
fn print_json(workload: serde_json::Value, flops: f64, timings: &[Timing]) {
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

/// The median of `v` (0 when empty).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
