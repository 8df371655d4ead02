//! `wgcnn bench`: honest timings on each backend, side by side, of one Conv2D (here) or of a
//! whole model, layer by layer ([`model`], charted by [`plot`]).
//!
//! GPU: the input is already resident on the device; a host-timed run is from dispatch until
//! the output is back on the host, and where the adapter has timestamp queries the device's
//! own time for the same work (nothing read back) is reported beside it: on a fast GPU the
//! host's submit and read-back can take longer than the kernels. CPU backends: a run is one
//! call on data already in memory. Each backend gets warm-up runs first (pipeline compilation,
//! caches), then `repeat` timed runs; the table reports the median, min and max, GFLOP/s from
//! the median (2 FLOPs per multiply-add) and GB/s of the least traffic the work needs (every
//! input, weight and output moved once).

mod model;
mod plot;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use wgcnn::gpu::DeviceTiming;
use wgcnn::model::Sequential;
use wgcnn::{cpu, reference, Conv2dSpec, Gpu, Tensor};

use super::backend::{compile_for_gpu, cpu_name, gpu_name};
use super::progress;
use crate::{Backend, BenchArgs, BenchCommand, BenchConv2dArgs, TimingArgs};

/// `wgcnn bench`: a model (`bench MODEL`) or one op (`bench conv2d`).
pub(crate) fn main(args: BenchArgs) -> wgcnn::Result<ExitCode> {
    let threads = match &args.op {
        Some(BenchCommand::Conv2d(op)) => op.timing.threads,
        None => args.timing.threads,
    };
    if let Some(n) = threads {
        // Before anything runs on rayon's pool: the CPU backend's threads.
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::try_from(n).unwrap_or(usize::MAX))
            .build_global()
            .map_err(|e| wgcnn::Error::InvalidArgument {
                op: "bench",
                reason: format!("--threads {n}: {e}"),
            })?;
    }
    if let Some(BenchCommand::Conv2d(op)) = args.op {
        return conv2d(op);
    }
    let Some(path) = &args.model else {
        return Err(wgcnn::Error::InvalidArgument {
            op: "bench",
            reason: "give a .keras model or an op (wgcnn bench --help)".into(),
        });
    };
    let (model, batch, results) = model::main(path, &args)?;
    if let Some(plot) = &args.plot {
        std::fs::write(plot, plot::svg(&model, batch, &results)).map_err(|source| {
            wgcnn::Error::Io {
                path: plot.clone(),
                source,
            }
        })?;
    }
    Ok(ExitCode::SUCCESS)
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
    let (work, timings) = time_conv2d(input_shape, spec, &timing)?;
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
        print_json(workload, work, &timings);
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
        print_table(&title, work, &timings);
    }
    Ok(ExitCode::SUCCESS)
}

/// Whose clock timed a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// The host's: from the call until the result is on the host.
    Host,
    /// The GPU's own, from timestamp queries around the work (nothing read back).
    Device,
}

/// One backend's timings on one clock.
struct Timing {
    backend: &'static str,
    clock: Clock,
    device: String,
    runs: Vec<Duration>,
}

/// What a run does: its FLOPs, the bytes it must move at least, and its examples.
#[derive(Debug, Clone, Copy)]
struct Work {
    flops: f64,
    bytes: f64,
    examples: usize,
}

impl Work {
    /// (GFLOP/s, GB/s) at `ms` milliseconds per run.
    fn rates(&self, ms: f64) -> (f64, f64) {
        let seconds = ms / 1e3;
        (self.flops / seconds / 1e9, self.bytes / seconds / 1e9)
    }
}

impl Timing {
    /// The backend, with "device" for a GPU timed on its own clock.
    fn label(&self) -> String {
        match self.clock {
            Clock::Host => self.backend.to_string(),
            Clock::Device => format!("{} device", self.backend),
        }
    }

    /// (median, min, max) in milliseconds.
    fn stats(&self) -> (f64, f64, f64) {
        let ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ms.iter().copied().fold(0.0, f64::max);
        (median(ms), min, max)
    }

    /// The `p`-th percentile (nearest rank: the smallest run time that at least `p` percent of
    /// runs do not exceed), in milliseconds.
    fn percentile(&self, p: f64) -> f64 {
        let mut ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
        ms.get(rank.clamp(1, ms.len().max(1)) - 1)
            .copied()
            .unwrap_or(0.0)
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

/// The device's own time for `repeat` runs of `run` after `warmup` untimed ones, or `None`
/// (with a note on stderr) where the adapter has no timestamp queries.
fn device_runs(
    gpu: &Gpu,
    warmup: usize,
    repeat: usize,
    mut run: impl FnMut() -> wgcnn::Result<Option<Duration>>,
) -> wgcnn::Result<Option<Vec<Duration>>> {
    if gpu.device_timing() != DeviceTiming::Timestamps {
        eprintln!("note: gpu: {}", gpu.device_timing());
        return Ok(None);
    }
    let bar = progress::bar((warmup + repeat) as u64, "gpu device time");
    let mut runs = Vec::with_capacity(repeat);
    for k in 0..warmup + repeat {
        // A pass the driver could not time (its end read before its beginning) is left out.
        if let Some(t) = run()? {
            if k >= warmup {
                runs.push(t);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((!runs.is_empty()).then_some(runs))
}

/// Benchmarks one Conv2D on each requested backend: its work and the timings.
fn time_conv2d(
    input_shape: [usize; 4],
    spec: Conv2dSpec,
    args: &TimingArgs,
) -> wgcnn::Result<(Work, Vec<Timing>)> {
    let (warmup, repeat) = (args.warmup as usize, args.repeat as usize);
    let [n, h, w, c] = input_shape;
    let out = spec.output_shape(input_shape)?;
    let kernel_shape = spec.kernel_shape(c);
    let work = Work {
        examples: n,
        flops: 2.0
            * out.iter().product::<usize>() as f64
            * (spec.kernel_size[0] * spec.kernel_size[1] * c) as f64,
        bytes: 4.0
            * (input_shape.iter().product::<usize>()
                + kernel_shape.iter().product::<usize>()
                + if spec.use_bias { spec.filters } else { 0 }
                + out.iter().product::<usize>()) as f64,
    };
    let x = data(&input_shape, 1)?;
    let k = data(&kernel_shape, 2)?;
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
                let mut compiled = compile_for_gpu(&model, &gpu, n)?;
                compiled.load(&[&x])?;
                let runs = time_runs("gpu", warmup, repeat, || compiled.run_loaded().map(drop))?;
                let device = device_runs(&gpu, warmup, repeat, || compiled.time_loaded())?;
                timings.push(Timing {
                    backend: "gpu",
                    clock: Clock::Host,
                    device: gpu_name(&gpu),
                    runs,
                });
                let Some(runs) = device else { continue };
                Timing {
                    backend: "gpu",
                    clock: Clock::Device,
                    device: gpu_name(&gpu),
                    runs,
                }
            }
            Backend::Cpu => Timing {
                backend: "cpu",
                clock: Clock::Host,
                device: cpu_name(),
                runs: time_runs("cpu", warmup, repeat, || {
                    cpu::conv2d(&spec, &x, &k, b.as_ref()).map(drop)
                })?,
            },
            Backend::Reference => Timing {
                backend: "reference",
                clock: Clock::Host,
                device: "cpu: plain loops, 1 thread".into(),
                runs: time_runs("reference", warmup, repeat, || {
                    reference::conv2d(&spec, &x, &k, b.as_ref()).map(drop)
                })?,
            },
        };
        timings.push(timing);
    }
    Ok((work, timings))
}

/// A table in Markdown's pipe layout: aligned whatever the cells hold (adapter names run
/// long), readable in a terminal and pasteable into an issue as is. On a terminal (or with
/// $COLUMNS set) long cells wrap so that the table stays within its width; into a pipe or a
/// file, rows stay one line each.
fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::ASCII_MARKDOWN)
        .set_header(header.to_vec());
    if let Some(width) = super::summary::known_columns() {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(width).unwrap_or(u16::MAX));
    }
    table
}

/// Right-aligns every column after the first `text_columns`.
fn align_numbers(table: &mut Table, text_columns: usize) {
    for column in table.column_iter_mut().skip(text_columns) {
        column.set_cell_alignment(CellAlignment::Right);
    }
}

/// Milliseconds with three significant decimals below 1 ms (device times of small kernels).
fn ms_cell(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3}")
    } else {
        format!("{ms:.2}")
    }
}

/// The readable table.
fn print_table(title: &str, work: Work, timings: &[Timing]) {
    println!(
        "{title}  ({:.3} GFLOP, {:.1} MB moved at least, per run)",
        work.flops / 1e9,
        work.bytes / 1e6
    );
    let mut t = table(&[
        "backend",
        "device",
        "median ms",
        "p90 ms",
        "p99 ms",
        "min ms",
        "examples/s",
        "GFLOP/s",
        "GB/s",
        "runs",
    ]);
    for timing in timings {
        let (median, min, _) = timing.stats();
        let (gflops, gbs) = work.rates(median);
        t.add_row(vec![
            timing.label(),
            timing.device.clone(),
            ms_cell(median),
            ms_cell(timing.percentile(90.0)),
            ms_cell(timing.percentile(99.0)),
            ms_cell(min),
            format!("{:.1}", work.examples as f64 / (median / 1e3)),
            format!("{gflops:.2}"),
            format!("{gbs:.2}"),
            timing.runs.len().to_string(),
        ]);
    }
    align_numbers(&mut t, 2);
    println!("{t}");
    let host = |backend| {
        timings
            .iter()
            .find(|t| t.backend == backend && t.clock == Clock::Host)
    };
    if let (Some(gpu), Some(cpu)) = (host("gpu"), host("cpu")) {
        let ratio = cpu.stats().0 / gpu.stats().0;
        if ratio >= 1.0 {
            println!("gpu is {ratio:.2}× faster than cpu");
        } else {
            println!("cpu is {:.2}× faster than gpu", 1.0 / ratio);
        }
    }
}

/// One JSON object per line, per backend and clock.
fn print_json(workload: serde_json::Value, work: Work, timings: &[Timing]) {
    for t in timings {
        let (median, min, max) = t.stats();
        let (gflops, gbs) = work.rates(median);
        let mut line = serde_json::json!({
            "backend": t.backend,
            "clock": match t.clock {
                Clock::Host => "host",
                Clock::Device => "device",
            },
            "adapter": t.device,
            "runs": t.runs.len(),
            "median_ms": median,
            "p50_ms": median,
            "p90_ms": t.percentile(90.0),
            "p99_ms": t.percentile(99.0),
            "min_ms": min,
            "max_ms": max,
            "examples_per_s": work.examples as f64 / (median / 1e3),
            "gflops": gflops,
            "gbs": gbs,
            "gflop_per_run": work.flops / 1e9,
            "mb_per_run": work.bytes / 1e6,
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
