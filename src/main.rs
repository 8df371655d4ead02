//! `wgcnn`: run Keras-style Conv2D and MaxPooling2D from the command line on the GPU or the CPU.

use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

use cli::{bench, demo};

use clap::{Parser, Subcommand};
use wgcnn::npy::{read_npy, OutputTarget};
use wgcnn::{reference, Activation, Backend, Conv2dSpec, Gpu, Padding, Pool2dSpec, Tensor};

/// Keras models (.keras, legacy Keras 2 .h5) on any GPU through wgpu, or on a fast CPU
/// backend, with the shapes, parameter counts and numbers Keras computes.
///
/// Tensors are Keras's: inputs NHWC (batch, height, width, channels), Conv2D kernels HWIO
/// (kh, kw, in_channels, filters), float32 .npy files in C order (np.save of a float32 array).
///
/// The GPU adapter is chosen by wgpu's environment variables: WGPU_BACKEND (vulkan, gl, metal,
/// dx12), WGPU_ADAPTER_NAME (substring of the name), WGPU_POWER_PREF (low, high).
#[derive(Parser)]
#[command(name = "wgcnn", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Conv2D: Y = activation(conv(X, K) + B), Keras semantics.
    ///
    /// Output size per axis: 'valid' floor((in - d*(k-1) - 1)/s) + 1, 'same' ceil(in/s), with
    /// Keras's asymmetric 'same' padding (the odd extra cell goes after).
    #[command(
        after_help = "Example (Keras: Conv2D(32, 3, strides=2, padding='same', activation='relu')):\n  \
        wgcnn conv2d --input x.npy --kernel k.npy --bias b.npy --strides 2 --padding same \\\n    \
        --activation relu --output y.npy"
    )]
    Conv2d {
        /// Input, shape (batch, height, width, channels).
        #[arg(long)]
        input: PathBuf,
        /// Kernel, shape (kh, kw, in_channels, filters), as Keras stores it.
        #[arg(long)]
        kernel: PathBuf,
        /// Bias, shape (filters,). Without it the layer has no bias (use_bias=False).
        #[arg(long)]
        bias: Option<PathBuf>,
        #[command(flatten)]
        conv: ConvOptions,
        /// Where to compute: auto (a hardware GPU when there is one, else the fast CPU
        /// backend), gpu (WGSL compute shaders; forces a software adapter too), cpu (the fast
        /// CPU backend) or reference (plain loops, f64 accumulation; slow, obviously correct).
        #[arg(long, value_parser = parse_backend_choice, default_value = "auto")]
        backend: BackendChoice,
        /// Output .npy, shape (batch, out_height, out_width, filters). Written only on success
        /// (a regular file is replaced atomically; a device or FIFO is written through; `-` is
        /// standard output).
        #[arg(long)]
        output: PathBuf,
    },
    /// MaxPooling2D, Keras semantics; padded cells never win the max.
    #[command(
        after_help = "Example (Keras: MaxPooling2D((3, 2), strides=(2, 1), padding='same')):\n  \
        wgcnn max-pool2d --input x.npy --pool-size 3,2 --strides 2,1 --padding same --output y.npy"
    )]
    MaxPool2d {
        /// Input, shape (batch, height, width, channels).
        #[arg(long)]
        input: PathBuf,
        /// Pool size "P" or "PH,PW".
        #[arg(long, value_parser = parse_pair, value_name = "PH,PW")]
        pool_size: [usize; 2],
        /// Strides "S" or "SH,SW"; defaults to the pool size, as in Keras.
        #[arg(long, value_parser = parse_pair, value_name = "SH,SW")]
        strides: Option<[usize; 2]>,
        /// Padding: valid (windows inside the input) or same (output = ceil(input / stride)).
        #[arg(long, value_parser = parse_padding, default_value = "valid")]
        padding: Padding,
        /// Where to compute: auto (a hardware GPU when there is one, else the fast CPU
        /// backend), gpu (WGSL compute shaders; forces a software adapter too), cpu (the fast
        /// CPU backend) or reference (plain loops, f64 accumulation; slow, obviously correct).
        #[arg(long, value_parser = parse_backend_choice, default_value = "auto")]
        backend: BackendChoice,
        /// Output .npy, shape (batch, out_height, out_width, channels). Written only on success
        /// (a regular file is replaced atomically; a device or FIFO is written through; `-` is
        /// standard output).
        #[arg(long)]
        output: PathBuf,
    },
    /// Print a Keras model's summary exactly as Keras 3's model.summary() does.
    ///
    /// MODEL is a .keras file, or a JSON architecture (model.to_json(), or the config.json
    /// inside a .keras file); no weights are needed.
    Summary {
        /// The model.
        model: PathBuf,
        /// Print JSON instead: name, layers (name, class_name, output_shape, params) and totals.
        #[arg(long, conflicts_with = "explain")]
        json: bool,
        /// Under each layer, derive its output size and parameter count with the numbers
        /// filled in.
        #[arg(long)]
        explain: bool,
        /// Table width. Default: Keras's rule, min(88, terminal columns − 4), where the
        /// terminal's columns come from $COLUMNS, else the terminal, else 80 (so 76 in a pipe).
        #[arg(long, value_parser = clap::value_parser!(u16).range(20..))]
        line_length: Option<u16>,
    },
    /// Run a Keras model's forward pass (inference) on an input batch.
    ///
    /// On the GPU, activations stay on the device from layer to layer and are read back once;
    /// batches too large for the device's buffers or dispatch limits run in chunks.
    #[command(after_help = "Examples:\n  \
        wgcnn run model.keras --input x.npy --output y.npy\n  \
        wgcnn run vqa.keras --input image=img.npy --input question=ids.npy --output-dir out/\n  \
        wgcnn run vqa.keras --input inputs.npz --output outputs.npz --compare keras.npz\n\n\
        Inputs are float32 .npy files, (batch, ..input shape); a model input declared as an \
        integer (int32 token ids for an Embedding) also takes integer .npy files. An .npz \
        archive (np.savez) holds several arrays, each named after the model input or output \
        it is (arrays saved without names, arr_0, arr_1, ..., are taken in the model's order).")]
    Run {
        /// The model: a .keras file or a legacy Keras 2 .h5 file (architecture and weights).
        model: PathBuf,
        /// An input: FILE.npy, or NAME=FILE.npy (NAME: the input layer's name) once per model
        /// input, or one FILE.npz holding every input.
        #[arg(
            long = "input",
            required = true,
            value_name = "[NAME=]FILE.npy|FILE.npz"
        )]
        inputs: Vec<String>,
        /// Where to write an output: FILE.npy, NAME=FILE.npy (NAME: the layer producing it)
        /// for a model with several outputs, or one FILE.npz for all of them (members named
        /// as --output-dir names files). Written once the forward pass succeeds, before
        /// --compare, so a failed comparison leaves them to inspect; `-` is standard output;
        /// a regular file is replaced atomically; devices and FIFOs are written through.
        #[arg(
            long = "output",
            value_name = "[NAME=]FILE.npy|FILE.npz",
            required_unless_present_any = ["output_dir", "compare"]
        )]
        outputs: Vec<String>,
        /// Write every output as DIR/NAME.npy instead (DIR is created if needed). NAME is the
        /// output layer's name made a safe file name, so that a model cannot choose where
        /// files go: ASCII letters, digits, '_', '-' and '.' are kept and any other character
        /// becomes '_'; a name that is empty or starts with '.' gets '_' in front; a Windows
        /// device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, before any '.') gets '_' after
        /// it; names are cut to 100 bytes; a name equal to an earlier one up to case gets
        /// '_1', '_2', ... (an output listed twice too). An .npz archive (--input, --compare)
        /// may name its arrays so or by the layers' own names.
        #[arg(long, value_name = "DIR", conflicts_with = "outputs")]
        output_dir: Option<PathBuf>,
        /// Where to compute: auto (a hardware GPU when there is one, else the fast CPU
        /// backend), gpu (WGSL compute shaders; forces a software adapter too), cpu (the fast
        /// CPU backend) or reference (plain loops, f64 accumulation; slow, obviously correct).
        #[arg(long, value_parser = parse_backend_choice, default_value = "auto")]
        backend: BackendChoice,
        /// Examples per forward pass, as in Keras's predict(batch_size=...). Default: the
        /// whole input in one pass on the CPU backends; on the GPU as many as fit the device's
        /// buffers and dispatch limits.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        batch_size: Option<u64>,
        /// Compare outputs with expected arrays (FILE.npy, NAME=FILE.npy per output, or one
        /// FILE.npz). An array whose shape is not the output's is an error before anything
        /// runs or is written; otherwise prints the largest absolute and relative differences
        /// and exits with status 1 unless |y − expected| ≤ atol + rtol·|expected| everywhere
        /// (NaN matches NaN). --output files are written either way.
        #[arg(long, value_name = "[NAME=]FILE.npy|FILE.npz")]
        compare: Vec<String>,
        /// Relative tolerance of --compare.
        #[arg(long, default_value_t = 1e-5, requires = "compare")]
        rtol: f64,
        /// Absolute tolerance of --compare.
        #[arg(long, default_value_t = 1e-6, requires = "compare")]
        atol: f64,
    },
    /// Benchmark: time a model (layer by layer) or one op on each backend, side by side.
    Bench(BenchArgs),
    /// List every GPU adapter wgpu can see; '*' marks the one wgcnn would use.
    Adapters,
    /// The main job: bundled models and the seed documents' examples on GPU and CPU, side by side.
    ///
    /// Runs the seed CIFAR-10 model and a keras.applications MobileNetV2 on the GPU, the fast
    /// CPU backend and the reference, each against the output real Keras computed. Then checks
    /// each seed layer example's output shape and parameter count against what the documents print
    /// and the GPU's output against the CPU reference (integer-valued data: exact), and times
    /// both. Exits non-zero on any disagreement.
    Demo,
}

/// A Conv2D's options besides filters, kernel size and bias: what `conv2d` and `bench conv2d`
/// share, with Keras's names and defaults.
#[derive(clap::Args)]
struct ConvOptions {
    /// Strides "S" or "SH,SW".
    #[arg(long, value_parser = parse_pair, value_name = "SH,SW", default_value = "1")]
    strides: [usize; 2],
    /// Padding: valid (no padding) or same (output = ceil(input / stride)).
    #[arg(long, value_parser = parse_padding, default_value = "valid")]
    padding: Padding,
    /// Dilation rate "D" or "DH,DW" (not with strides > 1, as in Keras); `--dilation`
    /// is accepted too.
    #[arg(
        long = "dilation-rate",
        visible_alias = "dilation",
        value_parser = parse_pair,
        value_name = "DH,DW",
        default_value = "1"
    )]
    dilation: [usize; 2],
    /// Activation fused into the output: linear, relu, sigmoid or tanh.
    #[arg(long, value_parser = parse_activation, default_value = "linear")]
    activation: Activation,
}

impl ConvOptions {
    fn spec(&self, filters: usize, kernel_size: [usize; 2], use_bias: bool) -> Conv2dSpec {
        Conv2dSpec::new(filters, kernel_size)
            .strides(self.strides)
            .padding(self.padding)
            .dilation(self.dilation)
            .use_bias(use_bias)
            .activation(self.activation)
    }
}

/// What every benchmark takes: which backends, how many runs, which output.
#[derive(clap::Args)]
struct TimingArgs {
    /// Backends to time, in order (gpu, cpu, reference; repeat the flag or separate with
    /// commas).
    #[arg(long, value_parser = parse_backend, value_delimiter = ',', default_value = "gpu,cpu")]
    backend: Vec<Backend>,
    /// Timed runs per backend.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Untimed runs first (they include compilation and autotuning).
    #[arg(long, default_value_t = 2)]
    warmup: u32,
    /// One JSON object per line and backend instead of the table.
    #[arg(long)]
    json: bool,
}

/// `wgcnn bench MODEL [options]` or `wgcnn bench conv2d ...`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct BenchArgs {
    #[command(subcommand)]
    op: Option<BenchCommand>,
    /// A model to time as a whole and layer by layer (each layer timed alone): .keras, .h5,
    /// or an architecture JSON with --synthetic-weights.
    #[arg(required = true)]
    model: Option<PathBuf>,
    /// Time the architecture with deterministic synthetic weights instead of its own (the
    /// timings do not depend on the values; the JSON of `model.to_json()` is enough).
    #[arg(long)]
    synthetic_weights: bool,
    /// Examples per forward pass.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    #[command(flatten)]
    timing: TimingArgs,
    /// Also draw per-layer time for each backend as an SVG bar chart.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Time one Conv2D: GPU with the input resident on the device, timed from dispatch until
    /// the output is back on the host; CPU backends on data in memory. Median, min and max of
    /// --repeat runs after --warmup runs (which include compilation), and GFLOP/s.
    #[command(after_help = "Example (CIFAR-10 conv 2 of seed 001, batch 32):\n  \
        wgcnn bench conv2d --input-shape 32,32,32,32 --filters 32 --kernel-size 3")]
    Conv2d {
        /// Input shape N,H,W,C.
        #[arg(long, value_parser = parse_shape4, value_name = "N,H,W,C")]
        input_shape: [usize; 4],
        /// Number of filters.
        #[arg(long, value_name = "K")]
        filters: usize,
        /// Kernel size "K" or "KH,KW".
        #[arg(long, value_parser = parse_pair, value_name = "KH,KW")]
        kernel_size: [usize; 2],
        #[command(flatten)]
        conv: ConvOptions,
        /// Leave the bias out (Keras's use_bias=False).
        #[arg(long)]
        no_bias: bool,
        #[command(flatten)]
        timing: TimingArgs,
    },
}

fn parse_pair(s: &str) -> Result<[usize; 2], String> {
    let parse = |p: &str| {
        p.trim()
            .parse::<usize>()
            .map_err(|_| format!("'{s}' is not N or N,M with non-negative integers"))
    };
    match s.split_once(',') {
        None => parse(s).map(|v| [v, v]),
        Some((a, b)) => Ok([parse(a)?, parse(b)?]),
    }
}

fn parse_shape4(s: &str) -> Result<[usize; 4], String> {
    let dims: Result<Vec<usize>, _> = s.split(',').map(|d| d.trim().parse::<usize>()).collect();
    dims.ok()
        .and_then(|d| <[usize; 4]>::try_from(d).ok())
        .ok_or_else(|| format!("'{s}' is not N,H,W,C (four non-negative integers)"))
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

/// `--backend` of the commands that compute once: `auto` (`None`) or a backend.
#[derive(Debug, Clone, Copy)]
struct BackendChoice(Option<Backend>);

fn parse_backend_choice(s: &str) -> Result<BackendChoice, String> {
    if s == "auto" {
        Ok(BackendChoice(None))
    } else {
        s.parse().map(|b| BackendChoice(Some(b)))
    }
}

/// `--backend auto`: the GPU when wgpu finds a hardware adapter; otherwise the fast CPU
/// backend, with one line on stderr saying why (a software adapter such as llvmpipe runs on the
/// same cores as the CPU backend, and slower). An explicit `--backend gpu` still uses it.
fn resolve_backend(choice: BackendChoice) -> Backend {
    if let Some(backend) = choice.0 {
        return backend;
    }
    match Gpu::shared() {
        Ok(gpu) if gpu.adapter_info().device_type != wgpu::DeviceType::Cpu => Backend::Gpu,
        Ok(gpu) => {
            eprintln!(
                "note: only a software GPU adapter ({}): running on the CPU backend \
                 (--backend gpu uses the adapter anyway)",
                gpu.adapter_info().name
            );
            Backend::Cpu
        }
        Err(e) => {
            eprintln!("note: no GPU adapter ({e}): running on the CPU backend");
            Backend::Cpu
        }
    }
}

fn parse_padding(s: &str) -> Result<Padding, String> {
    s.parse()
}

fn parse_activation(s: &str) -> Result<Activation, String> {
    s.parse()
}

/// The CPU backends allocate every layer's output afresh. glibc serves blocks over its mmap
/// threshold with new mappings and returns them on free, so each layer would fault its output
/// in page by page again: that doubled the time of ResNet50's element-wise layers here. Serve
/// blocks up to 32 MiB (glibc's maximum threshold) from the heap and keep freed memory for
/// the next layer.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`wgcnn summary m.keras | head`)
    // would panic; restore the default: the process ends quietly, as command-line tools do.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    keep_freed_memory();
    let cli = Cli::parse();
    init_logging();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr through `env_logger`: warnings by default, `RUST_LOG` adds to that
/// (`RUST_LOG=wgcnn=debug` shows the autotuner's choices; `RUST_LOG=wgpu_hal=info` wgpu's
/// adapter details).
fn init_logging() {
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Warn)
        .parse_env("RUST_LOG")
        .format_timestamp(None)
        .init();
}

fn run(command: Command) -> wgcnn::Result<ExitCode> {
    match command {
        Command::Conv2d {
            input,
            kernel,
            bias,
            conv,
            backend,
            output,
        } => {
            let output = OutputTarget::prepare(&output)?;
            let x = read_npy(&input)?;
            let k = read_npy(&kernel)?;
            let b = bias.map(read_npy).transpose()?;
            // Filters and kernel size come from the kernel; `check` verifies the rest.
            let [kh, kw, _, filters] = *k.shape() else {
                return Err(wgcnn::Error::ShapeMismatch {
                    op: "conv2d",
                    what: "kernel",
                    expected: "rank 4 (kh, kw, in_channels, filters)".into(),
                    actual: k.shape().to_vec(),
                });
            };
            let spec = conv.spec(filters, [kh, kw], b.is_some());
            // Bad shapes or configs are reported before any device is opened.
            spec.check(x.shape(), k.shape(), b.as_ref().map(Tensor::shape))?;
            let (y, device) = match resolve_backend(backend) {
                Backend::Gpu => {
                    let gpu = Gpu::shared()?;
                    (gpu.conv2d(&spec, &x, &k, b.as_ref())?, gpu_name(gpu))
                }
                Backend::Cpu => (wgcnn::cpu::conv2d(&spec, &x, &k, b.as_ref())?, "cpu".into()),
                Backend::Reference => (
                    reference::conv2d(&spec, &x, &k, b.as_ref())?,
                    "reference".into(),
                ),
            };
            output.write(&y)?;
            cli::run::report(&output, &format!("shape {:?}", y.shape()), &device);
        }
        Command::MaxPool2d {
            input,
            pool_size,
            strides,
            padding,
            backend,
            output,
        } => {
            let output = OutputTarget::prepare(&output)?;
            let x = read_npy(&input)?;
            let spec = Pool2dSpec::new(pool_size)
                .strides(strides.unwrap_or(pool_size))
                .padding(padding);
            spec.check(x.shape())?;
            let (y, device) = match resolve_backend(backend) {
                Backend::Gpu => {
                    let gpu = Gpu::shared()?;
                    (gpu.max_pool2d(&spec, &x)?, gpu_name(gpu))
                }
                Backend::Cpu => (wgcnn::cpu::max_pool2d(&spec, &x)?, "cpu".into()),
                Backend::Reference => (reference::max_pool2d(&spec, &x)?, "reference".into()),
            };
            output.write(&y)?;
            cli::run::report(&output, &format!("shape {:?}", y.shape()), &device);
        }
        Command::Summary {
            model,
            json,
            explain,
            line_length,
        } => {
            let summary = wgcnn::model::Model::load(&model)?.summary();
            if json {
                println!("{}", summary.to_json());
            } else if explain {
                print!("{}", summary.explained());
            } else {
                let width = line_length.map_or_else(keras_line_length, usize::from);
                print!("{}", summary.table_with_line_length(width));
            }
        }
        Command::Run {
            model,
            inputs,
            outputs,
            output_dir,
            backend,
            batch_size,
            compare,
            rtol,
            atol,
        } => {
            let model = wgcnn::model::Model::load(&model)?;
            let xs = cli::run::inputs(&model, &inputs)?;
            let expected = cli::run::expected(&model, &compare)?;
            // Bad input, expected arrays of the wrong shape included, is reported before any
            // output is created or device opened.
            let shapes: Vec<&[usize]> = xs.iter().map(Tensor::shape).collect();
            let batch = model.check_inputs(&shapes)?;
            cli::run::check_expected(&model, &expected, batch)?;
            let outputs = cli::run::outputs(&model, &outputs, output_dir.as_deref())?;
            let batch_size = batch_size.map(|b| usize::try_from(b).unwrap_or(usize::MAX));
            let backend = resolve_backend(backend);
            let (ys, device) = cli::run::forward(&model, backend, &xs, batch, batch_size)?;
            // Written before the comparison: a mismatch is worth inspecting; the exit status
            // says the comparison failed.
            outputs.write(&ys, &device)?;
            let names = model.output_names();
            let mut all_close = true;
            for (k, want, source) in &expected {
                all_close &= cli::run::compare(names[*k], &ys[*k], want, source, rtol, atol)?;
            }
            if !all_close {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Bench(BenchArgs {
            op: None,
            model: Some(path),
            synthetic_weights,
            batch_size,
            timing,
            plot,
        }) => {
            let mut model = wgcnn::model::Model::load(&path)?;
            if synthetic_weights {
                model.fill_synthetic_weights()?;
            }
            let batch = batch_size as usize;
            let results = bench::model(&model, batch, &timing)?;
            if timing.json {
                bench::print_model_json(&model, batch, &results);
            } else {
                bench::print_model_table(&model, batch, &results);
            }
            if let Some(plot) = plot {
                std::fs::write(&plot, bench::plot_svg(&model, batch, &results)).map_err(
                    |source| wgcnn::Error::Io {
                        path: plot.clone(),
                        source,
                    },
                )?;
            }
        }
        Command::Bench(BenchArgs {
            op: None,
            model: None,
            ..
        }) => {
            return Err(wgcnn::Error::InvalidConfig {
                op: "bench",
                reason: "give a .keras model or an op (wgcnn bench --help)".into(),
            })
        }
        Command::Bench(BenchArgs {
            op:
                Some(BenchCommand::Conv2d {
                    input_shape,
                    filters,
                    kernel_size,
                    conv,
                    no_bias,
                    timing,
                }),
            ..
        }) => {
            let spec = conv.spec(filters, kernel_size, !no_bias);
            let (strides, padding, dilation, activation) =
                (spec.strides, spec.padding, spec.dilation, spec.activation);
            spec.plan(input_shape)?;
            let (flops, timings) = bench::conv2d(input_shape, spec, &timing)?;
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
                bench::print_json(workload, flops, &timings);
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
                bench::print_table(&title, flops, &timings);
            }
        }
        Command::Adapters => {
            let adapters = wgcnn::gpu::list_adapters();
            if adapters.is_empty() {
                return Err(wgcnn::Error::NoAdapter {
                    detail: "wgpu sees no adapter for the enabled backends".into(),
                });
            }
            for a in adapters {
                println!(
                    "{} {} | {} | {} | {} {}{}",
                    if a.selected { '*' } else { ' ' },
                    a.name,
                    a.backend,
                    a.device_type,
                    a.driver,
                    a.driver_info,
                    if a.compute {
                        ""
                    } else {
                        " | no compute shaders"
                    }
                );
            }
        }
        Command::Demo => return demo::run(),
    }
    Ok(ExitCode::SUCCESS)
}

/// Keras's summary width: `min(88, columns − 4)`, with columns as Python's
/// `shutil.get_terminal_size` finds them: $COLUMNS, else the terminal on stdout, else 80.
fn keras_line_length() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or_else(terminal_columns)
        .unwrap_or(80);
    88.min(columns.saturating_sub(4))
}

fn terminal_columns() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .filter(|&w| w > 0)
}

pub(crate) fn gpu_name(gpu: &Gpu) -> String {
    let info = gpu.adapter_info();
    format!("gpu: {} ({:?})", info.name, info.backend)
}
