//! `wgcnn bench`: honest timings of Conv2D on each backend, side by side.
//!
//! GPU: the input is already resident on the device; a run is from dispatch until the output
//! is back on the host. CPU backends: a run is one call on data already in memory. Each backend
//! gets warm-up runs first (pipeline compilation, caches), then `repeat` timed runs; the table
//! reports the median, min and max, and GFLOP/s from the median (2 FLOPs per multiply-add).

use std::time::{Duration, Instant};

use comfy_table::{presets, CellAlignment, Table};
use wgcnn::model::Sequential;
use wgcnn::{cpu, reference, Conv2dSpec, Gpu, Tensor};

use super::progress;
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
                let mut compiled =
                    progress::spinner("compiling and autotuning", || model.compile(&gpu, n))?;
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
pub(crate) fn print_table(title: &str, flops: f64, timings: &[Timing]) {
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
                let mut compiled =
                    progress::spinner("compiling and autotuning", || model.compile(&gpu, batch))?;
                compiled.load(&x)?;
                let runs = time_runs("gpu", warmup, repeat, || compiled.run_loaded().map(drop))?;
                // Each dispatch alone, `repeat` times; a layer's time is the sum of its steps.
                let mut per_step: Vec<(String, Vec<f64>)> = Vec::new();
                let bar = progress::bar(repeat as u64, "gpu layers");
                for _ in 0..repeat {
                    for (s, (label, t)) in compiled.profile_loaded()?.into_iter().enumerate() {
                        if per_step.len() <= s {
                            per_step.push((label, Vec::new()));
                        }
                        per_step[s].1.push(t.as_secs_f64() * 1e3);
                    }
                    bar.inc(1);
                }
                bar.finish_and_clear();
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
                let bar = progress::bar(warmup as u64, &format!("{label} warm-up"));
                for _ in 0..warmup {
                    model.run_cpu_timed(&x, fast, &mut |_, _| {})?;
                    bar.inc(1);
                }
                bar.finish_and_clear();
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

/// What a backend did for a layer, as the table and the plot show it.
fn layer_cell(model: &wgcnn::model::Model, r: &ModelTiming, i: usize) -> String {
    match (r.layers[i], r.fused_into[i]) {
        (Some(ms), _) => format!("{ms:.2}"),
        (None, Some(f)) => format!("fused into {}", model.layers()[f].name),
        (None, None) => "no work".into(),
    }
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
    let backend_columns: Vec<String> = results
        .iter()
        .map(|r| format!("{} ms", r.whole.backend))
        .collect();
    let mut header = vec!["layer", "output shape", "GFLOP"];
    header.extend(backend_columns.iter().map(String::as_str));
    let mut t = table(&header);
    let summary = model.summary();
    for (i, l) in model.layers().iter().enumerate() {
        let Some(row) = summary.rows.iter().find(|r| r.name == l.name) else {
            continue;
        };
        let mut cells = vec![
            l.label(),
            row.output_text.clone(),
            format!("{:.3}", flops[i] / 1e9),
        ];
        cells.extend(results.iter().map(|r| layer_cell(model, r, i)));
        t.add_row(cells);
    }
    let total_flops: f64 = flops.iter().sum();
    let mut sum = vec![
        "sum of layers".to_string(),
        String::new(),
        format!("{:.3}", total_flops / 1e9),
    ];
    sum.extend(
        results
            .iter()
            .map(|r| format!("{:.2}", r.layers.iter().flatten().sum::<f64>())),
    );
    t.add_row(sum);
    let mut whole = vec![
        "whole forward pass".to_string(),
        String::new(),
        format!("{:.3}", total_flops / 1e9),
    ];
    whole.extend(results.iter().map(|r| format!("{:.2}", r.whole.stats().0)));
    t.add_row(whole);
    align_numbers(&mut t, 2);
    println!("{t}");
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

/// A horizontal bar chart of per-layer median time, one bar per backend, as SVG. Times span
/// orders of magnitude (a 1×1 convolution next to a 3×3 one, the reference next to the GPU),
/// so the time axis is logarithmic, with a tick and grid line per decade. A layer a backend
/// does not time on its own says why in place of its bar (fused into another layer, or no
/// work: a reshape on the GPU is a view).
pub(crate) fn plot_svg(
    model: &wgcnn::model::Model,
    batch: usize,
    results: &[ModelTiming],
) -> String {
    const COLORS: [&str; 3] = ["#4e79a7", "#f28e2b", "#59a14f"];
    let rows: Vec<usize> = model
        .layers()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.class_name != "InputLayer")
        .map(|(i, _)| i)
        .collect();
    let times = || {
        rows.iter()
            .flat_map(|&i| results.iter().filter_map(move |r| r.layers[i]))
            .filter(|&v| v > 0.0)
    };
    // Whole decades around every time measured.
    let lo = times().fold(f64::INFINITY, f64::min);
    let hi = times().fold(0.0, f64::max);
    let (lo_exp, hi_exp) = if lo.is_finite() {
        let lo_exp = lo.log10().floor() as i32;
        (lo_exp, (hi.log10().ceil() as i32).max(lo_exp + 1))
    } else {
        (-2, 0)
    };
    let (label_w, bar_w, bar_h, top) = (300.0, 520.0, 12.0, 56.0);
    let x_of = |ms: f64| {
        let decades = f64::from(hi_exp - lo_exp);
        label_w + (ms.max(1e-12).log10() - f64::from(lo_exp)) / decades * bar_w
    };
    let row_h = bar_h * results.len() as f64 + 8.0;
    let plot_bottom = top + row_h * rows.len() as f64;
    let height = plot_bottom + 50.0 + 20.0 * results.len() as f64;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">{} (batch {batch}): median ms per layer, each timed alone</text>\n",
        label_w + bar_w + 120.0,
        escape(model.name())
    );
    // Axis, decade ticks and grid lines.
    for exp in lo_exp..=hi_exp {
        let ms = 10f64.powi(exp);
        let x = x_of(ms);
        let tick = if exp < 0 {
            format!("{ms:.*}", exp.unsigned_abs() as usize)
        } else {
            format!("{ms:.0}")
        };
        svg += &format!(
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ddd\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>\n",
            top - 6.0,
            plot_bottom + 4.0,
            plot_bottom + 18.0
        );
    }
    svg += &format!(
        "<line x1=\"{label_w}\" y1=\"{plot_bottom}\" x2=\"{}\" y2=\"{plot_bottom}\" stroke=\"black\"/>\
         <line x1=\"{label_w}\" y1=\"{}\" x2=\"{label_w}\" y2=\"{plot_bottom}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">milliseconds (log scale)</text>\n",
        label_w + bar_w,
        top - 6.0,
        label_w + bar_w / 2.0,
        plot_bottom + 34.0
    );
    for (r, &i) in rows.iter().enumerate() {
        let y0 = top + r as f64 * row_h;
        svg += &format!(
            "<text x=\"10\" y=\"{}\">{}</text>\n",
            y0 + bar_h,
            escape(&model.layers()[i].label())
        );
        for (b, result) in results.iter().enumerate() {
            let y = y0 + b as f64 * bar_h;
            let color = COLORS[b % COLORS.len()];
            match result.layers[i] {
                Some(ms) => {
                    let w = (x_of(ms) - label_w).max(1.0);
                    svg += &format!(
                        "<rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{color}\"/>\
                         <text x=\"{:.1}\" y=\"{}\">{ms:.3}</text>\n",
                        bar_h - 2.0,
                        label_w + w + 4.0,
                        y + bar_h - 3.0
                    );
                }
                None => {
                    svg += &format!(
                        "<text x=\"{}\" y=\"{}\" fill=\"{color}\" font-style=\"italic\">{}: {}</text>\n",
                        label_w + 4.0,
                        y + bar_h - 3.0,
                        result.whole.backend,
                        escape(&layer_cell(model, result, i))
                    );
                }
            }
        }
    }
    let legend_y = plot_bottom + 46.0;
    for (b, r) in results.iter().enumerate() {
        let y = legend_y + 20.0 * b as f64;
        svg += &format!(
            "<rect x=\"10\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"28\" y=\"{}\">{}: {}, whole pass {:.2} ms</text>\n",
            COLORS[b % COLORS.len()],
            y + 10.0,
            r.whole.backend,
            escape(r.whole.device.trim_start_matches(&format!("{}: ", r.whole.backend))),
            r.whole.stats().0
        );
    }
    svg + "</svg>\n"
}
