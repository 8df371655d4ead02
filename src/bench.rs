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

use crate::{Backend, TimingArgs};

/// One backend's timings.
pub(crate) struct Timing {
    pub backend: &'static str,
    pub device: String,
    pub runs: Vec<Duration>,
}

impl Timing {
    /// (median, min, max) in milliseconds.
    pub fn stats(&self) -> (f64, f64, f64) {
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
                let mut compiled = model.compile(&gpu, n)?;
                compiled.load(&[&x])?;
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

/// Per-layer and whole-pass timings of a model on one backend.
pub(crate) struct ModelTiming {
    pub whole: Timing,
    /// Median per layer (index into the model's layers), in milliseconds; `None` where the
    /// backend does no work for the layer (Flatten and Dropout on the GPU).
    pub layers: Vec<Option<f64>>,
    /// Per layer, the layer whose kernels run it (BatchNormalization and activations fused
    /// into the convolution before them); its time is counted there.
    pub fused_into: Vec<Option<usize>>,
    /// Device memory the compiled model holds (GPU only).
    pub memory: Option<wgcnn::gpu::Memory>,
}

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

/// FLOPs of each layer (all its calls) for a batch: 2 per multiply-add.
pub(crate) fn layer_flops(model: &wgcnn::model::Model, batch: usize) -> Vec<f64> {
    let mut flops = vec![0.0; model.layers().len()];
    let nodes: Vec<(usize, usize)> = model.nodes().map(|(i, n)| (i, n.layer)).collect();
    for (node, f) in model.node_flops() {
        if let Some(&(_, layer)) = nodes.iter().find(|(i, _)| *i == node) {
            flops[layer] += f as f64 * batch as f64;
        }
    }
    flops
}

/// The top-level layer a GPU step label (`name (Class)` or `nested/inner (Class)`) belongs to.
fn layer_of_label(model: &wgcnn::model::Model, label: &str) -> Option<usize> {
    model.layers().iter().position(|l| {
        label == l.label()
            || label.starts_with(&format!("{} + ", l.label()))
            || label.starts_with(&format!("{}/", l.name))
    })
}

/// Times a whole model on each backend: the whole pass, and each layer on its own.
pub(crate) fn model(
    model: &wgcnn::model::Model,
    batch: usize,
    args: &TimingArgs,
) -> wgcnn::Result<Vec<ModelTiming>> {
    let (warmup, repeat) = (args.warmup as usize, args.repeat as usize);
    let inputs: Vec<Tensor> = model
        .input_shapes()
        .iter()
        .enumerate()
        .map(|(k, s)| data(&[&[batch][..], s].concat(), k + 1))
        .collect::<wgcnn::Result<_>>()?;
    let x: Vec<&Tensor> = inputs.iter().collect();
    let n_layers = model.layers().len();
    let layer_of_node: std::collections::HashMap<usize, usize> =
        model.nodes().map(|(i, n)| (i, n.layer)).collect();
    let mut results = Vec::new();
    for backend in &args.backend {
        let result = match backend {
            Backend::Gpu => {
                let gpu = Gpu::new()?;
                let mut compiled = model.compile(&gpu, batch)?;
                compiled.load(&x)?;
                let runs = time_runs("gpu", warmup, repeat, || compiled.run_loaded().map(drop))?;
                // Each dispatch alone, `repeat` times; a layer's time is the sum of its steps.
                let mut per_step: Vec<(String, Vec<f64>)> = Vec::new();
                for _ in 0..repeat {
                    for (s, (label, t)) in compiled.profile_loaded()?.into_iter().enumerate() {
                        if per_step.len() <= s {
                            per_step.push((label, Vec::new()));
                        }
                        per_step[s].1.push(t.as_secs_f64() * 1e3);
                    }
                }
                let mut layers = vec![None; n_layers];
                for (label, times) in per_step {
                    if let Some(i) = layer_of_label(model, &label) {
                        layers[i] = Some(layers[i].unwrap_or(0.0) + median(times));
                    }
                }
                ModelTiming {
                    whole: Timing {
                        backend: "gpu",
                        device: crate::gpu_name(&gpu),
                        runs,
                    },
                    layers,
                    fused_into: model.fused_layers(true)?,
                    memory: Some(compiled.memory()),
                }
            }
            Backend::Cpu | Backend::Reference => {
                let fast = *backend == Backend::Cpu;
                let label = if fast { "cpu" } else { "reference" };
                for _ in 0..warmup {
                    model.run_cpu_timed(&x, fast, &mut |_, _| {})?;
                }
                // Per run, the time of each layer (summed over its calls).
                let mut per_layer = vec![Vec::new(); n_layers];
                let runs = time_runs(label, 0, repeat, || {
                    let mut this_run = vec![None::<f64>; n_layers];
                    model.run_cpu_timed(&x, fast, &mut |node, t| {
                        if let Some(&l) = layer_of_node.get(&node) {
                            let ms = t.as_secs_f64() * 1e3;
                            this_run[l] = Some(this_run[l].unwrap_or(0.0) + ms);
                        }
                    })?;
                    for (l, t) in this_run.into_iter().enumerate() {
                        if let Some(t) = t {
                            per_layer[l].push(t);
                        }
                    }
                    Ok(())
                })?;
                let fused_into = if fast {
                    model.fused_layers(false)?
                } else {
                    vec![None; n_layers]
                };
                let layers = per_layer
                    .into_iter()
                    .zip(&fused_into)
                    .map(|(v, f)| (!v.is_empty() && f.is_none()).then(|| median(v)))
                    .collect();
                let device = if fast {
                    cpu_name()
                } else {
                    "cpu: plain loops, 1 thread".into()
                };
                ModelTiming {
                    whole: Timing {
                        backend: label,
                        device,
                        runs,
                    },
                    layers,
                    fused_into,
                    memory: None,
                }
            }
        };
        results.push(result);
    }
    Ok(results)
}

/// The per-layer table with the totals.
pub(crate) fn print_model_table(
    model: &wgcnn::model::Model,
    batch: usize,
    results: &[ModelTiming],
) {
    let flops = layer_flops(model, batch);
    println!(
        "model {}, batch {batch}: median ms per layer (each timed alone) and for the whole pass",
        model.name()
    );
    for r in results {
        println!("  {:<10} {}", r.whole.backend, r.whole.device);
    }
    print!("{:<44} {:>22} {:>9}", "layer", "output shape", "GFLOP");
    for r in results {
        print!(" {:>10}", format!("{} ms", r.whole.backend));
    }
    println!();
    let summary = model.summary();
    for (i, l) in model.layers().iter().enumerate() {
        let Some(row) = summary.rows.iter().find(|r| r.name == l.name) else {
            continue;
        };
        print!(
            "{:<44} {:>22} {:>9.3}",
            l.label(),
            row.output_text,
            flops[i] / 1e9
        );
        for r in results {
            match (r.layers[i], r.fused_into[i]) {
                (Some(ms), _) => print!(" {ms:>10.2}"),
                (None, Some(_)) => print!(" {:>10}", "fused"),
                (None, None) => print!(" {:>10}", "-"),
            }
        }
        println!();
    }
    let total_flops: f64 = flops.iter().sum();
    print!(
        "{:<44} {:>22} {:>9.3}",
        "sum of layers",
        "",
        total_flops / 1e9
    );
    for r in results {
        print!(" {:>10.2}", r.layers.iter().flatten().sum::<f64>());
    }
    println!();
    print!(
        "{:<44} {:>22} {:>9.3}",
        "whole forward pass",
        "",
        total_flops / 1e9
    );
    for r in results {
        print!(" {:>10.2}", r.whole.stats().0);
    }
    println!();
    for r in results {
        let (median, min, max) = r.whole.stats();
        println!(
            "{:<10} whole pass: median {median:.2} ms (min {min:.2}, max {max:.2}, {} runs), {:.2} GFLOP/s",
            r.whole.backend,
            r.whole.runs.len(),
            total_flops / (median / 1e3) / 1e9
        );
        if let Some(m) = r.memory {
            println!(
                "{:<10} device memory: {:.1} MB ({:.1} MB weights, {:.1} MB activations shared by liveness, {:.1} MB readback)",
                r.whole.backend,
                m.total() as f64 / 1e6,
                m.weights as f64 / 1e6,
                m.activations as f64 / 1e6,
                m.staging as f64 / 1e6
            );
        }
    }
}

/// One JSON object per line and backend: the whole pass, with per-layer medians.
pub(crate) fn print_model_json(model: &wgcnn::model::Model, batch: usize, results: &[ModelTiming]) {
    let flops: f64 = layer_flops(model, batch).iter().sum();
    for r in results {
        let layers: Vec<serde_json::Value> = model
            .layers()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.class_name != "InputLayer")
            .map(|(i, l)| serde_json::json!({"name": l.name, "class_name": l.class_name, "median_ms": r.layers[i], "fused_into": r.fused_into[i].map(|f| &model.layers()[f].name)}))
            .collect();
        let mut workload =
            serde_json::json!({"model": model.name(), "batch": batch, "layers": layers});
        if let (Some(m), Some(obj)) = (r.memory, workload.as_object_mut()) {
            obj.insert("device_memory_bytes".into(), m.total().into());
            obj.insert("weight_bytes".into(), m.weights.into());
            obj.insert("activation_bytes".into(), m.activations.into());
        }
        print_json(workload, flops, std::slice::from_ref(&r.whole));
    }
}

/// A horizontal bar chart of per-layer median time, one bar per backend, as SVG.
pub(crate) fn plot_svg(
    model: &wgcnn::model::Model,
    batch: usize,
    results: &[ModelTiming],
) -> String {
    const COLORS: [&str; 3] = ["#4e79a7", "#f28e2b", "#59a14f"];
    let rows: Vec<(String, Vec<f64>)> = model
        .layers()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.class_name != "InputLayer")
        .map(|(i, l)| {
            (
                l.label(),
                results.iter().map(|r| r.layers[i].unwrap_or(0.0)).collect(),
            )
        })
        .collect();
    let max = rows
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let (label_w, bar_w, bar_h) = (300.0, 520.0, 12.0);
    let row_h = bar_h * results.len() as f64 + 8.0;
    let height = 70.0 + row_h * rows.len() as f64 + 20.0 * results.len() as f64;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">{} (batch {batch}): median ms per layer</text>\n",
        label_w + bar_w + 90.0,
        escape(model.name())
    );
    for (r, (label, values)) in rows.iter().enumerate() {
        let y0 = 40.0 + r as f64 * row_h;
        svg += &format!(
            "<text x=\"10\" y=\"{}\">{}</text>\n",
            y0 + bar_h,
            escape(label)
        );
        for (b, v) in values.iter().enumerate() {
            let y = y0 + b as f64 * bar_h;
            let w = v / max * bar_w;
            svg += &format!(
                "<rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{}\">{v:.2}</text>\n",
                bar_h - 2.0,
                COLORS[b % COLORS.len()],
                label_w + w + 4.0,
                y + bar_h - 3.0
            );
        }
    }
    let legend_y = 50.0 + row_h * rows.len() as f64;
    for (b, r) in results.iter().enumerate() {
        let y = legend_y + 20.0 * b as f64;
        svg += &format!(
            "<rect x=\"10\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"28\" y=\"{}\">{}: {}</text>\n",
            COLORS[b % COLORS.len()],
            y + 10.0,
            r.whole.backend,
            escape(r.whole.device.trim_start_matches(&format!("{}: ", r.whole.backend)))
        );
    }
    svg + "</svg>\n"
}
