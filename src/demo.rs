//! `wgcnn demo`, the main job: the bundled seed CIFAR-10 model, a keras.applications
//! MobileNetV2, and the seed documents' layer examples, each on the GPU and the CPU side by side.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use wgcnn::model::synthetic::input_value;
use wgcnn::model::Model;
use wgcnn::npy::parse_npy;
use wgcnn::seeds::{seed_examples, SeedLayer};
use wgcnn::{reference, Gpu, Tensor};

/// The seed CIFAR-10 network with synthetic weights (tools/gen_bundled_model.py), two sample
/// images and Keras's output for them.
const CIFAR10: &[u8] = include_bytes!("../models/cifar10.keras");
const CIFAR10_INPUT: &[u8] = include_bytes!("../models/cifar10.input.npy");
const CIFAR10_KERAS_OUTPUT: &[u8] = include_bytes!("../models/cifar10.output.npy");

/// Largest |GPU − Keras| and |CPU − Keras| accepted: float32 sums of up to 2304 terms.
const KERAS_TOLERANCE: f32 = 1e-5;

/// keras.applications.MobileNetV2 at 128×128 (logits), architecture only, and Keras's output
/// with `tools/keras_random.py`'s weights and input, which wgcnn regenerates bit for bit
/// (tools/gen_bundled_model.py).
const MOBILENETV2: &str = include_str!("../models/mobilenetv2.json");
const MOBILENETV2_KERAS_OUTPUT: &[u8] = include_bytes!("../models/mobilenetv2.output.npy");

/// Largest difference from Keras accepted for MobileNetV2, relative to the output's largest
/// magnitude (float32 through 53 layers in a different summation order).
const APPLICATION_TOLERANCE: f32 = 1e-4;

pub(crate) fn run() -> wgcnn::Result<ExitCode> {
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

/// The bundled CIFAR-10 model: summary, then the forward pass on both backends against Keras.
fn cifar10(gpu: &Gpu) -> wgcnn::Result<bool> {
    let model = Model::from_keras_bytes("models/cifar10.keras", CIFAR10)?;
    println!(
        "\n== Seed 001's CIFAR-10 model (models/cifar10.keras; weights synthetic, not trained)"
    );
    print!("{}", model.summary().table());
    let x = parse_npy(CIFAR10_INPUT, "models/cifar10.input.npy")?;
    let keras = parse_npy(CIFAR10_KERAS_OUTPUT, "models/cifar10.output.npy")?;

    let t = Instant::now();
    let mut compiled = model.compile(gpu, x.shape()[0])?;
    let compile_time = t.elapsed();
    compiled.run(&x)?; // warm-up
    let t = Instant::now();
    let gpu_y = compiled.run(&x)?;
    let gpu_time = t.elapsed();
    model.run_cpu(&x)?; // warm-up
    let t = Instant::now();
    let cpu_y = model.run_cpu(&x)?;
    let cpu_time = t.elapsed();
    let t = Instant::now();
    let ref_y = model.run_reference(&x)?;
    let ref_time = t.elapsed();

    let errors = [&gpu_y, &cpu_y, &ref_y].map(|y| max_abs_diff(y, &keras));
    let ok = errors.iter().all(|&e| e <= KERAS_TOLERANCE);
    println!(
        "forward pass on {} images: GPU {:.2} ms (after {:.1} ms to upload weights, build and autotune), \
         CPU {:.2} ms, CPU reference {:.2} ms",
        x.shape()[0],
        ms(gpu_time),
        ms(compile_time),
        ms(cpu_time),
        ms(ref_time)
    );
    println!(
        "max |GPU − Keras| = {:.2e}, max |CPU − Keras| = {:.2e}, max |reference − Keras| = {:.2e}, \
         max |GPU − CPU| = {:.2e}: {}",
        errors[0],
        errors[1],
        errors[2],
        max_abs_diff(&gpu_y, &cpu_y),
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
    let t = Instant::now();
    let mut compiled = model.compile(gpu, 1)?;
    let compile_time = t.elapsed();
    compiled.run(&x)?; // warm-up
    let t = Instant::now();
    let gpu_y = compiled.run(&x)?;
    let gpu_time = t.elapsed();
    model.run_cpu(&x)?; // warm-up
    let t = Instant::now();
    let cpu_y = model.run_cpu(&x)?;
    let cpu_time = t.elapsed();
    let t = Instant::now();
    let ref_y = model.run_reference(&x)?;
    let ref_time = t.elapsed();

    let scale = keras
        .data()
        .iter()
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(1e-30);
    let errors = [&gpu_y, &cpu_y, &ref_y].map(|y| max_abs_diff(y, &keras) / scale);
    let ok = errors.iter().all(|&e| e <= APPLICATION_TOLERANCE);
    println!(
        "forward pass on 1 image: GPU {:.2} ms (after {:.1} ms to upload weights, build and \
         autotune), CPU {:.2} ms, CPU reference {:.2} ms",
        ms(gpu_time),
        ms(compile_time),
        ms(cpu_time),
        ms(ref_time)
    );
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

/// The seed documents' layer examples, GPU against CPU, with their expected shapes and counts.
fn seed_layers(gpu: &Gpu) -> wgcnn::Result<bool> {
    println!(
        "\n== The seed documents' layer examples, batch 1, GPU vs CPU reference\n\
         (times: one call after a warm-up, upload to readback for the GPU)"
    );
    println!(
        "{:<44} {:>20} {:>8} {:>9} {:>9} {:>10}  ok",
        "layer", "output shape", "params", "gpu ms", "cpu ms", "max |diff|"
    );
    let mut all_ok = true;
    for (e, example) in seed_examples().into_iter().enumerate() {
        println!("{}", example.source);
        let [h, w, c] = example.input;
        let mut cpu_x = pattern(vec![1, h, w, c], e as u64, 2)?;
        let mut gpu_x = cpu_x.clone();
        for (s, step) in example.steps.iter().enumerate() {
            let salt = (e * 16 + s) as u64;
            let in_c = cpu_x.shape()[3];
            let (name, params, cpu_time, gpu_time, cpu_y, gpu_y);
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
                    gpu.conv2d(&spec, &gpu_x, &kernel, bias.as_ref())?; // warm-up
                    let t = Instant::now();
                    gpu_y = gpu.conv2d(&spec, &gpu_x, &kernel, bias.as_ref())?;
                    gpu_time = t.elapsed();
                    let t = Instant::now();
                    cpu_y = reference::conv2d(&spec, &cpu_x, &kernel, bias.as_ref())?;
                    cpu_time = t.elapsed();
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
                    gpu.max_pool2d(&spec, &gpu_x)?; // warm-up
                    let t = Instant::now();
                    gpu_y = gpu.max_pool2d(&spec, &gpu_x)?;
                    gpu_time = t.elapsed();
                    let t = Instant::now();
                    cpu_y = reference::max_pool2d(&spec, &cpu_x)?;
                    cpu_time = t.elapsed();
                }
            }
            let shape_ok =
                cpu_y.shape()[1..] == step.expected_shape[..] && gpu_y.shape() == cpu_y.shape();
            let diff = max_abs_diff(&gpu_y, &cpu_y);
            let ok = shape_ok && params == step.expected_params && diff == 0.0;
            all_ok &= ok;
            let dims: Vec<String> = cpu_y.shape()[1..].iter().map(usize::to_string).collect();
            println!(
                "  {:<42} {:>20} {:>8} {:>9.2} {:>9.2} {:>10}  {}",
                name,
                format!("(None, {})", dims.join(", ")),
                params,
                gpu_time.as_secs_f64() * 1e3,
                cpu_time.as_secs_f64() * 1e3,
                diff,
                if ok {
                    "yes"
                } else {
                    "NO (seed expects different)"
                }
            );
            cpu_x = cpu_y;
            gpu_x = gpu_y;
        }
    }
    println!(
        "{}",
        if all_ok {
            "all shapes and parameter counts match the seed documents; GPU == CPU exactly"
        } else {
            "MISMATCH: see the rows marked NO"
        }
    );
    Ok(all_ok)
}
