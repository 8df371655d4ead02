//! `wgcnn bench MODEL`: a model timed as a whole and layer by layer on each backend, printed
//! as a table, JSON lines or an SVG chart ([`super::plot`]).
//!
//! Every per-layer loop here finds layers, nodes, summary rows and GPU steps in maps built
//! once per model: a scan per layer made `bench` quadratic in the layers (a chain of
//! 60,000 Dense layers spent about 9 of its 12 s searching).

use std::collections::HashMap;
use std::path::Path;

use wgcnn::model::{Model, StepLayers};
use wgcnn::{Gpu, Tensor};

use super::{
    align_numbers, data, device_runs, median, ms_cell, print_json, table, time_runs, Clock, Timing,
    Work,
};
use crate::cli::backend::{compile_for_gpu, cpu_name, gpu_name};
use crate::cli::progress;
use crate::{Backend, BenchArgs, TimingArgs};

/// `wgcnn bench MODEL`: loads it (with synthetic weights if asked), times it and prints the
/// table or JSON; returns the model and its timings for the plot ([`super::plot`]).
pub(super) fn main(
    path: &Path,
    args: &BenchArgs,
) -> wgcnn::Result<(Model, usize, Vec<ModelTiming>)> {
    let mut model = Model::load(path)?;
    if args.synthetic_weights {
        model.fill_synthetic_weights()?;
    }
    let batch = args.batch_size as usize;
    let results = time_model(&model, batch, &args.timing)?;
    if args.timing.json {
        print_model_json(&model, batch, &results);
    } else {
        print_model_table(&model, batch, &results);
    }
    Ok((model, batch, results))
}

/// Per-layer and whole-pass timings of a model on one backend.
pub(super) struct ModelTiming {
    pub(super) whole: Timing,
    /// Median per layer (index into the model's layers), in milliseconds; `None` where the
    /// backend does no work for the layer (Flatten and Dropout on the GPU).
    pub(super) layers: Vec<Option<f64>>,
    /// Per layer, the layer whose kernels run it (BatchNormalization and activations fused
    /// into the convolution before them); its time is counted there.
    pub(super) fused_into: Vec<Option<usize>>,
    /// Device memory the compiled model holds (GPU only).
    pub(super) memory: Option<wgcnn::gpu::Memory>,
}

/// The top-level layer of each node (layer call), by node index.
fn layer_of_node(model: &Model) -> HashMap<usize, usize> {
    model.nodes().map(|(i, n)| (i, n.layer)).collect()
}

/// The work of each layer (all its calls) for a batch: FLOPs (2 per multiply-add), and the
/// bytes a call must move at least (its inputs and outputs for the batch, its weights once).
fn layer_work(model: &Model, batch: usize) -> Vec<Work> {
    let mut work = vec![
        Work {
            flops: 0.0,
            bytes: 0.0,
            examples: batch,
        };
        model.layers().len()
    ];
    let params: HashMap<String, usize> = model
        .summary()
        .rows
        .into_iter()
        .map(|r| (r.name, r.params))
        .collect();
    let flops: HashMap<usize, u64> = model.node_flops().into_iter().collect();
    let elements = |shapes: &mut dyn Iterator<Item = &[usize]>| -> f64 {
        shapes.map(|s| s.iter().product::<usize>() as f64).sum()
    };
    for (i, node) in model.nodes() {
        let entry = &model.layers()[node.layer];
        if entry.class_name == "InputLayer" {
            continue;
        }
        let values = elements(&mut model.node_input_shapes(i).into_iter())
            + elements(&mut node.outputs.iter().map(Vec::as_slice));
        let weights = params.get(&entry.name).copied().unwrap_or(0) as f64;
        let w = &mut work[node.layer];
        w.flops += flops.get(&i).copied().unwrap_or(0) as f64 * batch as f64;
        w.bytes += 4.0 * (values * batch as f64 + weights);
    }
    work
}

/// The work of the whole model: the sum of its layers'.
fn total_work(work: &[Work]) -> Work {
    Work {
        flops: work.iter().map(|w| w.flops).sum(),
        bytes: work.iter().map(|w| w.bytes).sum(),
        examples: work.first().map_or(1, |w| w.examples),
    }
}

/// Times a whole model on each backend: the whole pass, and each layer on its own.
fn time_model(model: &Model, batch: usize, args: &TimingArgs) -> wgcnn::Result<Vec<ModelTiming>> {
    let (warmup, repeat) = (args.warmup as usize, args.repeat as usize);
    let inputs: Vec<Tensor> = model
        .input_shapes()
        .iter()
        .enumerate()
        .map(|(k, s)| data(&[&[batch][..], s].concat(), k + 1))
        .collect::<wgcnn::Result<_>>()?;
    let x: Vec<&Tensor> = inputs.iter().collect();
    let n_layers = model.layers().len();
    let layer_of_node = layer_of_node(model);
    let mut results = Vec::new();
    for backend in &args.backend {
        let result = match backend {
            Backend::Gpu => {
                let gpu = Gpu::new()?;
                let mut compiled = compile_for_gpu(model, &gpu, batch)?;
                compiled.load(&x)?;
                let runs = time_runs("gpu", warmup, repeat, || compiled.run_loaded().map(drop))?;
                let device_whole = device_runs(&gpu, warmup, repeat, || compiled.time_loaded())?;
                // Each dispatch alone, `repeat` times; a layer's time is the sum of its steps.
                let mut per_step: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
                let bar = progress::bar(repeat as u64, "gpu layers");
                for _ in 0..repeat {
                    for (s, step) in compiled.profile_loaded()?.into_iter().enumerate() {
                        if per_step.len() <= s {
                            per_step.push((step.label, Vec::new(), Vec::new()));
                        }
                        per_step[s].1.push(step.host.as_secs_f64() * 1e3);
                        if let Some(d) = step.device {
                            per_step[s].2.push(d.as_secs_f64() * 1e3);
                        }
                    }
                    bar.inc(1);
                }
                bar.finish_and_clear();
                let labels = StepLayers::new(model);
                let (mut host_layers, mut device_layers) =
                    (vec![None; n_layers], vec![None; n_layers]);
                for (label, host, device) in per_step {
                    if let Some(i) = labels.layer_of(&label) {
                        host_layers[i] = Some(host_layers[i].unwrap_or(0.0) + median(host));
                        if !device.is_empty() {
                            device_layers[i] =
                                Some(device_layers[i].unwrap_or(0.0) + median(device));
                        }
                    }
                }
                let fused_into = model.fused_layers(true)?;
                let timing = |clock, runs, layers| ModelTiming {
                    whole: Timing {
                        backend: "gpu",
                        clock,
                        device: gpu_name(&gpu),
                        runs,
                    },
                    layers,
                    fused_into: fused_into.clone(),
                    memory: Some(compiled.memory()),
                };
                results.push(timing(Clock::Host, runs, host_layers));
                let Some(runs) = device_whole else { continue };
                timing(Clock::Device, runs, device_layers)
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
                        clock: Clock::Host,
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
pub(super) fn layer_cell(model: &Model, r: &ModelTiming, i: usize) -> String {
    match (r.layers[i], r.fused_into[i]) {
        (Some(ms), _) => format!("{ms:.2}"),
        (None, Some(f)) => format!("fused into {}", model.layers()[f].name),
        (None, None) => "no work".into(),
    }
}

/// The per-layer table with the totals.
fn print_model_table(model: &Model, batch: usize, results: &[ModelTiming]) {
    let work = layer_work(model, batch);
    println!(
        "model {}, batch {batch}: median ms per layer (each timed alone) and for the whole pass",
        model.name()
    );
    for r in results {
        let clock = match r.whole.clock {
            Clock::Host => "",
            Clock::Device => " (its own clock: timestamp queries, nothing read back)",
        };
        println!("  {:<10} {}{clock}", r.whole.label(), r.whole.device);
    }
    let backend_columns: Vec<String> = results
        .iter()
        .map(|r| format!("{} ms", r.whole.label()))
        .collect();
    let mut header = vec!["layer", "output shape", "GFLOP"];
    header.extend(backend_columns.iter().map(String::as_str));
    let mut t = table(&header);
    let summary = model.summary();
    // The first row of each name (a Sequential model's InputLayer has none).
    let mut row_of: HashMap<&str, usize> = HashMap::with_capacity(summary.rows.len());
    for (k, row) in summary.rows.iter().enumerate() {
        row_of.entry(row.name.as_str()).or_insert(k);
    }
    for (i, l) in model.layers().iter().enumerate() {
        let Some(row) = row_of.get(l.name.as_str()).map(|&k| &summary.rows[k]) else {
            continue;
        };
        let mut cells = vec![
            l.label(),
            row.output_text.clone(),
            format!("{:.3}", work[i].flops / 1e9),
        ];
        cells.extend(results.iter().map(|r| layer_cell(model, r, i)));
        t.add_row(cells);
    }
    let total = total_work(&work);
    let total_flops = total.flops;
    let mut sum = vec![
        "sum of layers".to_string(),
        String::new(),
        format!("{:.3}", total_flops / 1e9),
    ];
    sum.extend(
        results
            .iter()
            .map(|r| ms_cell(r.layers.iter().flatten().sum::<f64>())),
    );
    t.add_row(sum);
    let mut whole = vec![
        "whole forward pass".to_string(),
        String::new(),
        format!("{:.3}", total_flops / 1e9),
    ];
    whole.extend(results.iter().map(|r| ms_cell(r.whole.stats().0)));
    t.add_row(whole);
    align_numbers(&mut t, 2);
    println!("{t}");
    for r in results {
        let (median, min, max) = r.whole.stats();
        let (gflops, gbs) = total.rates(median);
        println!(
            "{:<10} whole pass: median {} ms (p90 {}, p99 {}, min {}, max {}, {} runs), \
             {:.1} examples/s, {gflops:.2} GFLOP/s, {gbs:.2} GB/s",
            r.whole.label(),
            ms_cell(median),
            ms_cell(r.whole.percentile(90.0)),
            ms_cell(r.whole.percentile(99.0)),
            ms_cell(min),
            ms_cell(max),
            r.whole.runs.len(),
            batch as f64 / (median / 1e3),
        );
        if let (Some(m), Clock::Host) = (r.memory, r.whole.clock) {
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
fn print_model_json(model: &Model, batch: usize, results: &[ModelTiming]) {
    let work = layer_work(model, batch);
    let total = total_work(&work);
    for r in results {
        let layers: Vec<serde_json::Value> = model
            .layers()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.class_name != "InputLayer")
            .map(|(i, l)| {
                let rates = r.layers[i].map(|ms| work[i].rates(ms));
                serde_json::json!({
                    "name": l.name,
                    "class_name": l.class_name,
                    "median_ms": r.layers[i],
                    "gflop": work[i].flops / 1e9,
                    "mb": work[i].bytes / 1e6,
                    "gflops": rates.map(|r| r.0),
                    "gbs": rates.map(|r| r.1),
                    "fused_into": r.fused_into[i].map(|f| &model.layers()[f].name),
                })
            })
            .collect();
        let mut workload =
            serde_json::json!({"model": model.name(), "batch": batch, "layers": layers});
        if let (Some(m), Some(obj)) = (r.memory, workload.as_object_mut()) {
            obj.insert("device_memory_bytes".into(), m.total().into());
            obj.insert("weight_bytes".into(), m.weights.into());
            obj.insert("activation_bytes".into(), m.activations.into());
        }
        print_json(workload, total, std::slice::from_ref(&r.whole));
    }
}
