//! `wgcnn`: Keras models on the GPU (wgpu) or the CPU from the command line — run, summary,
//! bench, demo, adapters, and the single ops conv2d and max-pool2d.
//!
//! This file holds the arguments (clap) and one dispatch `match`; each subcommand's work is a
//! `main` function in `src/cli/`.

use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

use clap::{Parser, Subcommand};
use cli::backend::{parse_backend_choice, BackendChoice};
use cli::parse::{
    parse_activation, parse_backend, parse_count, parse_padding, parse_pair, parse_shape4,
};
use wgcnn::{Activation, Backend, Conv2dSpec, Padding};

/// Keras models (.keras, legacy Keras 2 .h5) on any GPU through wgpu, or on a fast CPU
/// backend, with the shapes, parameter counts and numbers Keras computes.
///
/// Tensors are Keras's: inputs NHWC (batch, height, width, channels), Conv2D kernels HWIO
/// (kh, kw, in_channels, filters), float32 .npy files in C order (np.save of a float32 array).
///
/// The GPU adapter is chosen by wgpu's environment variables: WGPU_BACKEND (vulkan, gl, metal,
/// dx12), WGPU_ADAPTER_NAME (substring of the name), WGPU_POWER_PREF (low, high).
///
/// The GPU backend keeps two caches in $WGCNN_CACHE_DIR, else in wgcnn/ under the platform's
/// cache directory (~/.cache on Linux): autotune.json, each Conv2D shape's fastest kernel as
/// measured on each adapter, and on Vulkan wgpu_pipeline_cache_vulkan_<vendor>_<device>, the
/// compiled pipelines, which later runs load instead of compiling again. Either may be deleted
/// at any time; a damaged one is ignored and rewritten. RUST_LOG=wgcnn=info prints how long
/// autotuning and compiling pipelines took.
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
    Conv2d(Conv2dArgs),
    /// MaxPooling2D, Keras semantics; padded cells never win the max.
    #[command(
        after_help = "Example (Keras: MaxPooling2D((3, 2), strides=(2, 1), padding='same')):\n  \
        wgcnn max-pool2d --input x.npy --pool-size 3,2 --strides 2,1 --padding same --output y.npy"
    )]
    MaxPool2d(MaxPool2dArgs),
    /// Print a Keras model's summary exactly as Keras 3's model.summary() does, for any model:
    /// layers wgcnn cannot run (Conv3D, 1D layers, custom classes) are described too.
    ///
    /// MODEL is a .keras file, or a JSON architecture (model.to_json(), or the config.json
    /// inside a .keras file); no weights are needed.
    Summary(SummaryArgs),
    /// Run a Keras model's forward pass (inference) on an input batch.
    ///
    /// On the GPU, activations stay on the device from layer to layer and are read back once;
    /// batches too large for the device's buffers or dispatch limits run in chunks.
    #[command(after_help = "Examples:\n  \
        wgcnn run model.keras --input x.npy --output y.npy\n  \
        wgcnn run vqa.keras --input image=img.npy --input question=ids.npy --output-dir out/\n  \
        wgcnn run vqa.keras --input inputs.npz --output outputs.npz --compare keras.npz\n  \
        wgcnn run model.keras --random-input 4\n  \
        wgcnn run classifier.keras --input-dir photos/ --output-dir predictions/\n\n\
        Inputs are float32 .npy files, (batch, ..input shape); a model input declared as an \
        integer (int32 token ids for an Embedding) also takes integer .npy files. An .npz \
        archive (np.savez) holds several arrays, each named after the model input or output \
        it is (arrays saved without names, arr_0, arr_1, ..., are taken in the model's order).")]
    Run(RunArgs),
    /// Benchmark: time a model (layer by layer) or one op on each backend, side by side.
    ///
    /// The GPU is timed twice: on the host's clock (from dispatch until the output is back on
    /// the host), and, where the adapter has timestamp queries, on its own clock ("gpu
    /// device": the compute pass alone, nothing read back). On a fast GPU the host's submit and
    /// read-back can cost more than the kernels; the device time is what the kernels take. An
    /// adapter without timestamp queries says so and gets host time only. GFLOP/s count 2
    /// FLOPs per multiply-add; GB/s count the least traffic the work needs (each input, weight
    /// and output moved once).
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

/// `wgcnn conv2d`'s arguments.
#[derive(clap::Args)]
struct Conv2dArgs {
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
}

/// `wgcnn max-pool2d`'s arguments.
#[derive(clap::Args)]
struct MaxPool2dArgs {
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
}

/// `wgcnn summary`'s arguments.
#[derive(clap::Args)]
struct SummaryArgs {
    /// The model: a .keras file, a legacy Keras 2 .h5 file, or an architecture JSON
    /// (model.to_json()).
    model: PathBuf,
    /// Print JSON instead: name, layers (name, class_name, output_shape, params) and totals.
    #[arg(long, conflicts_with = "explain")]
    json: bool,
    /// Under each layer, derive its output size and parameter count with the numbers
    /// filled in (for a layer class wgcnn does not know: what was read from the file).
    #[arg(long)]
    explain: bool,
    /// Table width. Default: Keras's rule, min(88, terminal columns − 4) for a sequential-like
    /// model (a Sequential, or a Functional whose every step is one layer call on one tensor
    /// with no layer called twice) and min(108, terminal columns − 4) for any other, where the
    /// terminal's columns come from $COLUMNS, else the terminal, else 80 (so 76 in a pipe).
    #[arg(long, value_parser = clap::value_parser!(u16).range(20..))]
    line_length: Option<u16>,
}

/// `wgcnn run`'s arguments.
#[derive(clap::Args)]
struct RunArgs {
    /// The model: a .keras file or a legacy Keras 2 .h5 file (architecture and weights).
    model: PathBuf,
    /// An input: FILE.npy, or NAME=FILE.npy (NAME: the input layer's name) once per model
    /// input, or one FILE.npz holding every input.
    #[arg(
        long = "input",
        required_unless_present_any = ["random_input", "input_dir"],
        value_name = "[NAME=]FILE.npy|FILE.npz"
    )]
    inputs: Vec<String>,
    /// Run on every .npy, .png, .jpg and .jpeg file in DIR instead (a model with one input;
    /// not subdirectories or hidden files), in file-name order, --batch-size examples per
    /// pass (default 32) with only that pass's files in memory. A .npy file is one example
    /// (the input's shape) or a batch (n, ..input shape). An image is one example whose
    /// pixels are what Keras's load_img + img_to_array give: float32 0-255, no scaling; the
    /// model input's channels pick the colour mode (3 RGB, 1 grayscale by ITU-R 601-2 luma,
    /// 4 RGBA); it must have the input's height and width (wgcnn does not resize); EXIF
    /// orientation is not applied (nor does Keras apply it); 16-bit PNGs and CMYK JPEGs are
    /// refused. JPEG pixels may differ from Pillow's by a few levels (another decoder).
    /// Outputs: --output-dir OUT writes one .npy per input file, named after it (cat.jpg ->
    /// OUT/cat.jpg.npy, x.npy -> OUT/x.npy; .npz for several outputs), without a batch axis
    /// for a one-example file, as each pass completes; --output stacks them all in file
    /// order; neither prints a line per example.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["inputs", "random_input", "compare"]
    )]
    input_dir: Option<PathBuf>,
    /// Run on N examples (default 1) of seeded random data instead of input files, the same
    /// every run: floats uniform in [-1, 1), integer inputs (token ids) whole numbers 0-9.
    #[arg(
        long,
        value_name = "N",
        num_args = 0..=1,
        default_missing_value = "1",
        value_parser = parse_count::<u64>,
        conflicts_with = "inputs"
    )]
    random_input: Option<u64>,
    /// Where to write an output: FILE.npy, NAME=FILE.npy (NAME: the layer producing it)
    /// for a model with several outputs, or one FILE.npz for all of them (members named
    /// as --output-dir names files). Written once the forward pass succeeds, before
    /// --compare, so a failed comparison leaves them to inspect; `-` is standard output;
    /// a regular file is replaced atomically; devices and FIFOs are written through.
    /// Without --output or --output-dir the outputs are printed: the top 5 classes of the
    /// first examples for a classifier (rows of probabilities), else shape, statistics and
    /// the first values.
    #[arg(long = "output", value_name = "[NAME=]FILE.npy|FILE.npz")]
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
    #[arg(long, value_name = "N", value_parser = parse_count::<u64>)]
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
    #[arg(long, default_value_t = 10, value_parser = parse_count::<u32>)]
    repeat: u32,
    /// Untimed runs first (they include compilation and autotuning).
    #[arg(long, default_value_t = 2)]
    warmup: u32,
    /// One JSON object per line and backend instead of the table.
    #[arg(long)]
    json: bool,
    /// Threads of the CPU backend (default: one per core; RAYON_NUM_THREADS also sets it).
    #[arg(long, value_name = "N", value_parser = parse_count::<u32>)]
    threads: Option<u32>,
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
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_count::<u32>)]
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
    /// the output is back on the host and, where the adapter has timestamp queries, on the
    /// device's own clock; CPU backends on data in memory. Median, min and max of --repeat runs
    /// after --warmup runs (which include compilation), GFLOP/s and GB/s.
    #[command(after_help = "Example (CIFAR-10 conv 2 of seed 001, batch 32):\n  \
        wgcnn bench conv2d --input-shape 32,32,32,32 --filters 32 --kernel-size 3")]
    Conv2d(BenchConv2dArgs),
}

/// `wgcnn bench conv2d`'s arguments.
#[derive(clap::Args)]
struct BenchConv2dArgs {
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
}

fn main() -> ExitCode {
    // Before clap or anything else runs, while this is the only thread.
    cli::process::setup();
    let cli = Cli::parse();
    cli::process::init_logging();
    let result = match cli.command {
        Command::Conv2d(args) => cli::single_op::conv2d(args),
        Command::MaxPool2d(args) => cli::single_op::max_pool2d(args),
        Command::Summary(args) => cli::summary::main(args),
        Command::Run(args) => match args.input_dir.clone() {
            Some(dir) => cli::input_dir::run(args, &dir),
            None => cli::run::main(args),
        },
        Command::Bench(args) => cli::bench::main(args),
        Command::Adapters => cli::adapters::main(),
        Command::Demo => cli::demo::main(),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })
}
