//! `wgcnn demo`, the main job: the bundled seed CIFAR-10 model, a keras.applications
//! MobileNetV2, and the seed documents' layer examples, each on the GPU and the CPU side by side.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use comfy_table::{presets, CellAlignment, Table};
use wgcnn::model::synthetic::input_value;
use wgcnn::model::Model;
use wgcnn::npy::parse_npy;
use wgcnn::seeds::{seed_examples, SeedLayer};
use wgcnn::{reference, Gpu, Tensor};

/// The seed CIFAR-10 network with synthetic weights (tools/gen_bundled_model.py), two sample
/// images and Keras's output for them.
const CIFAR10: &[u8] = include_bytes!("../../models/cifar10.keras");
const CIFAR10_INPUT: &[u8] = include_bytes!("../../models/cifar10.input.npy");
const CIFAR10_KERAS_OUTPUT: &[u8] = include_bytes!("../../models/cifar10.output.npy");

/// Largest |GPU − Keras| and |CPU − Keras| accepted: float32 sums of up to 2304 terms.
const KERAS_TOLERANCE: f32 = 1e-5;

/// keras.applications.MobileNetV2 at 128×128 (logits), architecture only, and Keras's output
/// with `tools/keras_random.py`'s weights and input, which wgcnn regenerates bit for bit
/// (tools/gen_bundled_model.py).
const MOBILENETV2: &str = include_str!("../../models/mobilenetv2.json");
const MOBILENETV2_KERAS_OUTPUT: &[u8] = include_bytes!("../../models/mobilenetv2.output.npy");

/// Largest difference from Keras accepted for MobileNetV2, relative to the output's largest
/// magnitude (float32 through 53 layers in a different summation order).
const APPLICATION_TOLERANCE: f32 = 1e-4;

/// `wgcnn demo`: every part runs even after one disagrees, so a failure shows them all; the
/// exit status is 1 if any did.
pub(crate) fn main() -> wgcnn::Result<ExitCode> {
    let gpu = Gpu::new()?;
    let info = gpu.adapter_info();
    println!(
        "wgcnn demo on {} ({:?}) and the CPU",
        info.name, info.backend
    );
    let model_ok = cifar10(&gpu)?;
    let application_ok = mobilenetv2(&gpu)?;
    let layers_ok = seed_layers(&gpu)?;
    Ok(if model_ok && application_ok && layers_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A model's forward pass on every backend: each output with its time.
struct Passes {
    examples: usize,
    /// Uploading weights, building the program and autotuning.
    compile: Duration,
    /// The second run (the first is a warm-up).
    gpu: (Tensor, Duration),
    /// The second run, as for the GPU.
    cpu: (Tensor, Duration),
    /// One run: the reference is slow, and has nothing to warm up.
    reference: (Tensor, Duration),
}

impl Passes {
    fn run(gpu: &Gpu, model: &Model, x: &Tensor) -> wgcnn::Result<Self> {
        let t = Instant::now();
        let mut compiled = model.compile(gpu, x.shape()[0])?;
        let compile = t.elapsed();
        let t = Instant::now();
        let reference = model.run_reference(x)?;
        let reference_time = t.elapsed();
        Ok(Self {
            examples: x.shape()[0],
            compile,
            gpu: timed(|| compiled.run(x))?,
            cpu: timed(|| model.run_cpu(x))?,
            reference: (reference, reference_time),
        })
    }

    fn print_times(&self) {
        println!(
            "forward pass on {} image{}: GPU {:.2} ms (after {:.1} ms to upload weights, \
             build and autotune), CPU {:.2} ms, CPU reference {:.2} ms",
            self.examples,
            if self.examples == 1 { "" } else { "s" },
            ms(self.gpu.1),
            ms(self.compile),
            ms(self.cpu.1),
            ms(self.reference.1)
        );
    }
}

/// The bundled CIFAR-10 model: summary, then the forward pass on both backends against Keras.
fn cifar10(gpu: &Gpu) -> wgcnn::Result<bool> {
    let model = Model::from_keras_bytes("models/cifar10.keras", CIFAR10)?;
    println!(
        "\n== Seed 001's CIFAR-10 model (models/cifar10.keras; weights synthetic, not trained)"
    );
    print!("{}", model.summary().table());
    let x = parse_npy(CIFAR10_INPUT, "models/cifar10.input.npy")?;
    let keras = parse_npy(CIFAR10_KERAS_OUTPUT, "models/cifar10.output.npy")?;

    let passes = Passes::run(gpu, &model, &x)?;
    let (gpu_y, cpu_y, ref_y) = (&passes.gpu.0, &passes.cpu.0, &passes.reference.0);
    let errors = [gpu_y, cpu_y, ref_y].map(|y| max_abs_diff(y, &keras));
    let ok = errors.iter().all(|&e| e <= KERAS_TOLERANCE);
    passes.print_times();
    println!(
        "max |GPU − Keras| = {:.2e}, max |CPU − Keras| = {:.2e}, max |reference − Keras| = {:.2e}, \
         max |GPU − CPU| = {:.2e}: {}",
        errors[0],
        errors[1],
        errors[2],
        max_abs_diff(gpu_y, cpu_y),
        if ok { "the outputs agree" } else { "MISMATCH" }
    );
    Ok(ok)
}

/// keras.applications.MobileNetV2: a functional graph with depthwise convolutions, residual
/// adds and fused BatchNormalization + ReLU6, on every backend against Keras.
fn mobilenetv2(gpu: &Gpu) -> wgcnn::Result<bool> {
    let mut model = Model::from_json(MOBILENETV2)?;
    model.fill_synthetic_weights()?;
    let keras = parse_npy(MOBILENETV2_KERAS_OUTPUT, "models/mobilenetv2.output.npy")?;
    let x = input_value(0, &[1, 128, 128, 3], None)?;
    let summary = model.summary();
    let table = summary.table();
    let totals = table
        .lines()
        .find(|l| l.contains("Total params"))
        .unwrap_or_default()
        .trim();
    println!(
        "\n== keras.applications.MobileNetV2 at 128×128 (models/mobilenetv2.json; weights \
         synthetic): {} layers, {totals}",
        summary.rows.len(),
    );
    let passes = Passes::run(gpu, &model, &x)?;
    let scale = keras
        .data()
        .iter()
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(1e-30);
    let errors = [&passes.gpu.0, &passes.cpu.0, &passes.reference.0]
        .map(|y| max_abs_diff(y, &keras) / scale);
    let ok = errors.iter().all(|&e| e <= APPLICATION_TOLERANCE);
    passes.print_times();
    println!(
        "max |wgcnn − Keras| / max |Keras| (max |Keras| = {:.3}): GPU {:.2e}, CPU {:.2e}, \
         reference {:.2e}: {}",
        scale,
        errors[0],
        errors[1],
        errors[2],
        if ok { "the outputs agree" } else { "MISMATCH" }
    );
    Ok(ok)
}

/// Small integers from a fixed hash of the index: exact in f32 sums, so GPU and CPU must agree
/// bit for bit.
fn pattern(shape: Vec<usize>, salt: u64, range: i64) -> wgcnn::Result<Tensor> {
    Tensor::from_fn(shape, |i| {
        let mut h = (i as u64 ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
        ((h % (2 * range as u64 + 1)) as i64 - range) as f32
    })
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.data()
        .iter()
        .zip(b.data())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Times `f` once after a warm-up call: (result, time).
fn timed<T>(mut f: impl FnMut() -> wgcnn::Result<T>) -> wgcnn::Result<(T, Duration)> {
    f()?;
    let t = Instant::now();
    let y = f()?;
    Ok((y, t.elapsed()))
}

/// The seed documents' layer examples on the GPU, the fast CPU backend and the reference, with
/// their expected shapes and counts.
fn seed_layers(gpu: &Gpu) -> wgcnn::Result<bool> {
    println!(
        "\n== The seed documents' layer examples, batch 1: GPU and fast CPU against the CPU \
         reference\n(times: one call after a warm-up; the GPU's includes upload and readback, \
         which dominate at this size)"
    );
    let mut all_ok = true;
    for (e, example) in seed_examples().into_iter().enumerate() {
        println!("\n{}", example.source);
        let mut table = Table::new();
        table.load_style(presets::ASCII_MARKDOWN).set_header(vec![
            "layer",
            "output shape",
            "params",
            "gpu ms",
            "cpu ms",
            "reference ms",
            "max abs diff",
            "ok",
        ]);
        let [h, w, c] = example.input;
        let mut x = pattern(vec![1, h, w, c], e as u64, 2)?;
        for (s, step) in example.steps.iter().enumerate() {
            let salt = (e * 16 + s) as u64;
            let in_c = x.shape()[3];
            let (name, params, gpu_y, cpu_y, ref_y);
            match step.layer {
                SeedLayer::Conv2d(spec) => {
                    let kernel = pattern(spec.kernel_shape(in_c).to_vec(), salt + 100, 1)?;
                    let bias = spec
                        .use_bias
                        .then(|| pattern(vec![spec.filters], salt + 200, 3))
                        .transpose()?;
                    name = format!(
                        "conv2d {} {}x{} s{}x{} {} {}{}",
                        spec.filters,
                        spec.kernel_size[0],
                        spec.kernel_size[1],
                        spec.strides[0],
                        spec.strides[1],
                        spec.padding,
                        spec.activation,
                        if spec.use_bias { "" } else { " no-bias" }
                    );
                    params = spec.param_count(in_c)?;
                    let b = bias.as_ref();
                    gpu_y = timed(|| gpu.conv2d(&spec, &x, &kernel, b))?;
                    cpu_y = timed(|| wgcnn::cpu::conv2d(&spec, &x, &kernel, b))?;
                    ref_y = timed(|| reference::conv2d(&spec, &x, &kernel, b))?;
                }
                SeedLayer::MaxPool2d(spec) => {
                    name = format!(
                        "max_pool2d {}x{} s{}x{} {}",
                        spec.pool_size[0],
                        spec.pool_size[1],
                        spec.strides[0],
                        spec.strides[1],
                        spec.padding
                    );
                    params = spec.param_count();
                    gpu_y = timed(|| gpu.max_pool2d(&spec, &x))?;
                    cpu_y = timed(|| wgcnn::cpu::max_pool2d(&spec, &x))?;
                    ref_y = timed(|| reference::max_pool2d(&spec, &x))?;
                }
            }
            let ((reference_y, ref_time), (gpu_y, gpu_time), (cpu_y, cpu_time)) =
                (ref_y, gpu_y, cpu_y);
            let shape_ok = reference_y.shape()[1..] == step.expected_shape[..]
                && gpu_y.shape() == reference_y.shape()
                && cpu_y.shape() == reference_y.shape();
            let diff = max_abs_diff(&gpu_y, &reference_y).max(max_abs_diff(&cpu_y, &reference_y));
            let ok = shape_ok && params == step.expected_params && diff == 0.0;
            all_ok &= ok;
            let dims: Vec<String> = reference_y.shape()[1..]
                .iter()
                .map(usize::to_string)
                .collect();
            table.add_row(vec![
                name,
                format!("(None, {})", dims.join(", ")),
                params.to_string(),
                format!("{:.2}", ms(gpu_time)),
                format!("{:.2}", ms(cpu_time)),
                format!("{:.2}", ms(ref_time)),
                diff.to_string(),
                if ok {
                    "yes"
                } else {
                    "NO (seed expects different)"
                }
                .to_string(),
            ]);
            x = reference_y;
        }
        for column in table.column_iter_mut().skip(2).take(5) {
            column.set_cell_alignment(CellAlignment::Right);
        }
        println!("{table}");
    }
    println!(
        "{}",
        if all_ok {
            "\nall shapes and parameter counts match the seed documents; GPU == fast CPU == \
             reference exactly"
        } else {
            "\nMISMATCH: see the rows marked NO"
        }
    );
    Ok(all_ok)
}
