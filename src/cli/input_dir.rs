//! `wgcnn run --input-dir DIR`: every `.npy`, `.png`, `.jpg` and `.jpeg` file of a directory
//! through a model with one input, `--batch-size` examples per pass with only that pass's files
//! in memory; the outputs go one file per input file (`--output-dir`), stacked in file order
//! (`--output`), or are printed.
//!
//! - Files are taken in the byte order of their names; subdirectories, hidden files and files
//!   of other kinds are passed over.
//! - A `.npy` file holds one example (the model input's shape) or a batch (one more, leading,
//!   axis); an image is one example, decoded as [`wgcnn::images`] says (Keras's `load_img` +
//!   `img_to_array`: float32 0–255, no resizing).
//! - `--output-dir OUT`: one `.npy` per input file, named after it (`cat.jpg` → `cat.jpg.npy`,
//!   `x.npy` → `x.npy`; `.npz` with one member per output for a model with several), shaped
//!   like the file: without a batch axis for one example, with it for a batch. Written as each
//!   pass completes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wgcnn::images::{read_image, ColorMode, ImageFormat};
use wgcnn::model::GpuModel;
use wgcnn::npy::OutputTarget;
use wgcnn::{Backend, Gpu, Model, Tensor, TensorView};

use super::backend::{cpu_name, gpu_name};
use super::progress;
use super::run::{concat, outputs, Outputs};

/// Examples per pass when `--batch-size` is not given (Keras's `predict` default): a
/// directory may hold more than fits in memory at once.
const DEFAULT_BATCH: usize = 32;

fn bad(reason: String) -> wgcnn::Error {
    wgcnn::Error::InvalidArgument {
        op: "run --input-dir",
        reason,
    }
}

/// One input file.
struct Input {
    path: PathBuf,
    image: bool,
}

/// The files `run --input-dir` reads, in name order.
fn list(dir: &Path) -> wgcnn::Result<Vec<Input>> {
    let io = |source| wgcnn::Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden || !path.is_file() {
            continue;
        }
        let npy = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        let image = ImageFormat::of(&path).is_some();
        if npy || image {
            files.push(Input { path, image });
        }
    }
    files.sort_by(|a, b| a.path.file_name().cmp(&b.path.file_name()));
    if files.is_empty() {
        return Err(bad(format!(
            "{} holds no .npy, .png, .jpg or .jpeg file",
            dir.display()
        )));
    }
    Ok(files)
}

/// The forward pass, compiled once for the GPU (boxed: one per run, and far larger than a
/// backend name).
enum Engine<'g> {
    Gpu(Box<GpuModel<'g>>),
    Host(Backend),
}

impl Engine<'_> {
    /// `x` in passes of at most `per_pass` examples; the outputs of all of them.
    fn run(&mut self, model: &Model, x: &Tensor, per_pass: usize) -> wgcnn::Result<Vec<Tensor>> {
        let batch = x.shape()[0];
        let per: usize = x.shape()[1..].iter().product();
        let mut per_output: Vec<Vec<Tensor>> = Vec::new();
        for start in (0..batch).step_by(per_pass.max(1)) {
            let end = (start + per_pass).min(batch);
            let shape = [&[end - start][..], &x.shape()[1..]].concat();
            let view = TensorView::new(&shape, &x.data()[start * per..end * per])?;
            let ys = match self {
                Self::Gpu(program) => program.run_views(&[view])?,
                Self::Host(backend) => model.run_many(*backend, &[&view.to_tensor()])?,
            };
            per_output.resize_with(ys.len(), Vec::new);
            for (k, y) in ys.into_iter().enumerate() {
                per_output[k].push(y);
            }
        }
        per_output.into_iter().map(concat).collect()
    }
}

/// Where the outputs go.
enum Sink {
    /// One file per input file in this directory.
    PerFile(PathBuf),
    /// All of them stacked, written at the end.
    Stacked(Outputs, Vec<Vec<Tensor>>),
    /// Printed, file by file.
    Print,
}

/// `wgcnn run MODEL --input-dir DIR [--output-dir OUT | --output FILE...]`.
pub(crate) fn run(args: crate::RunArgs, dir: &Path) -> wgcnn::Result<ExitCode> {
    let model = Model::load(&args.model)?;
    let batch_size = args
        .batch_size
        .map(|b| usize::try_from(b).unwrap_or(usize::MAX));
    let backend = super::backend::resolve(args.backend);
    main(
        &model,
        dir,
        &args.outputs,
        args.output_dir.as_deref(),
        backend,
        batch_size,
    )
}

/// [`run`] on a loaded model.
fn main(
    model: &Model,
    dir: &Path,
    output_args: &[String],
    output_dir: Option<&Path>,
    backend: Backend,
    batch_size: Option<usize>,
) -> wgcnn::Result<ExitCode> {
    let specs = model.inputs();
    let [(input_name, spec)] = specs.as_slice() else {
        return Err(bad(format!(
            "the model has {} inputs ({}); --input-dir feeds a model with one",
            specs.len(),
            specs.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )));
    };
    let files = list(dir)?;
    // Bad output arguments are reported before anything runs.
    let mut sink = match output_dir {
        Some(out) => Sink::PerFile(per_file_dir(dir, out, &files)?),
        None if output_args.is_empty() => Sink::Print,
        None => Sink::Stacked(outputs(model, output_args, None)?, Vec::new()),
    };
    let per_pass = batch_size.unwrap_or(DEFAULT_BATCH).max(1);
    let (mut engine, device) = match backend {
        Backend::Gpu => {
            let gpu = Gpu::shared()?;
            let program = progress::spinner("compiling and autotuning for the GPU", || {
                model.compile(gpu, per_pass)
            })?;
            (Engine::Gpu(Box::new(program)), gpu_name(gpu))
        }
        Backend::Cpu => (Engine::Host(backend), cpu_name()),
        Backend::Reference => (Engine::Host(backend), "reference".to_string()),
    };
    let names = model.output_names();
    let stems = wgcnn::names::unique_file_stems(&names);
    let bar = progress::bar(files.len() as u64, "files");
    let (mut examples, mut start) = (0, 0);
    while start < files.len() {
        // This pass: files until it holds per_pass examples (a file holding more is a pass
        // of its own, run in several).
        let mut group: Vec<(usize, Tensor, bool)> = Vec::new();
        let mut held = 0;
        while start < files.len() && held < per_pass {
            let (x, single) = read(&files[start], input_name, &spec.shape, spec.is_integer())?;
            held += x.shape()[0];
            group.push((start, x, single));
            start += 1;
        }
        let parts: Vec<Tensor> = group.iter().map(|(_, x, _)| x.clone()).collect();
        let ys = engine.run(model, &concat(parts)?, per_pass)?;
        let mut row = 0;
        for (index, x, single) in &group {
            let n = x.shape()[0];
            let file_ys = ys
                .iter()
                .map(|y| rows(y, row, n))
                .collect::<wgcnn::Result<Vec<_>>>()?;
            row += n;
            deliver(
                &mut sink,
                &files[*index].path,
                *single,
                &names,
                &stems,
                file_ys,
            )?;
            bar.inc(1);
        }
        examples += held;
    }
    bar.finish_and_clear();
    match sink {
        Sink::PerFile(out) => println!(
            "wrote {} files ({examples} examples) to {} [{device}]",
            files.len(),
            out.display()
        ),
        Sink::Stacked(outputs, parts) => {
            let ys = parts
                .into_iter()
                .map(concat)
                .collect::<wgcnn::Result<Vec<_>>>()?;
            outputs.write(&ys, &device)?;
        }
        Sink::Print => println!("[{device}]"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--output-dir OUT`: created if needed; not the input directory (the outputs would be read
/// as inputs next time, or replace them), and no two input files with one output name.
fn per_file_dir(dir: &Path, out: &Path, files: &[Input]) -> wgcnn::Result<PathBuf> {
    std::fs::create_dir_all(out).map_err(|source| wgcnn::Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let same = match (std::fs::canonicalize(dir), std::fs::canonicalize(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(bad(format!(
            "--output-dir {} is the input directory: write the outputs elsewhere",
            out.display()
        )));
    }
    // Case-insensitive file systems (macOS, Windows) would put A.png's and a.png's outputs in
    // one file.
    let mut seen: HashMap<String, &Path> = HashMap::new();
    for file in files {
        let name = output_name(&file.path, "npy")
            .to_string_lossy()
            .to_lowercase();
        if let Some(other) = seen.insert(name, &file.path) {
            return Err(bad(format!(
                "{} and {} would both write their outputs to {}: rename one",
                other.display(),
                file.path.display(),
                out.join(output_name(&file.path, "npy")).display()
            )));
        }
    }
    Ok(out.to_path_buf())
}

/// The name of an input file's output file in `--output-dir`: the input's name with `.EXT`
/// added, a `.npy` input's `.npy` replaced (`cat.jpg` → `cat.jpg.npy`, `x.npy` → `x.npy`), so
/// that `cat.jpg` and `cat.png` keep apart.
fn output_name(path: &Path, ext: &str) -> std::ffi::OsString {
    let npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let mut name = if npy {
        path.file_stem()
    } else {
        path.file_name()
    }
    .unwrap_or_default()
    .to_os_string();
    name.push(".");
    name.push(ext);
    name
}

/// One file as a batch `(n, ..input shape)`, and whether it held a single example.
fn read(
    file: &Input,
    input: &str,
    shape: &[usize],
    integer: bool,
) -> wgcnn::Result<(Tensor, bool)> {
    let path = &file.path;
    let per_example = |t: &Tensor| shape.iter().product::<usize>() == t.data().len();
    if file.image {
        let (mode, size) = match *shape {
            [h, w, c] => (ColorMode::from_channels(c), [h, w]),
            _ => (None, [0, 0]),
        };
        let Some(mode) = mode else {
            return Err(bad(format!(
                "{}: an image, but the model's input '{input}' takes {shape:?} per example; \
                 images feed inputs of shape (height, width, 1 | 3 | 4)",
                path.display()
            )));
        };
        let x = read_image(path, mode, Some(size))?;
        let batched = Tensor::new([&[1][..], shape].concat(), x.into_data())?;
        return Ok((batched, true));
    }
    let x = wgcnn::npy::read_npy_input(path, integer)?;
    if x.shape() == shape && per_example(&x) {
        let batched = Tensor::new([&[1][..], shape].concat(), x.into_data())?;
        return Ok((batched, true));
    }
    if x.shape().len() == shape.len() + 1 && &x.shape()[1..] == shape && x.shape()[0] > 0 {
        return Ok((x, false));
    }
    Err(bad(format!(
        "{}: shape {:?}, but the model's input '{input}' takes {shape:?} (one example) or \
         (n, {}) (a batch)",
        path.display(),
        x.shape(),
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Rows `start..start + n` of `y`, `(n, ..)`.
fn rows(y: &Tensor, start: usize, n: usize) -> wgcnn::Result<Tensor> {
    let per: usize = y.shape()[1..].iter().product();
    let data = y.data()[start * per..(start + n) * per].to_vec();
    Tensor::new([&[n][..], &y.shape()[1..]].concat(), data)
}

/// `y` without its batch axis of 1.
fn unbatched(y: &Tensor) -> wgcnn::Result<Tensor> {
    Tensor::new(y.shape()[1..].to_vec(), y.data().to_vec())
}

/// One input file's outputs `ys` (each `(n, ..)`) to where they go; `single`: the file held
/// one example, so its output files have no batch axis.
fn deliver(
    sink: &mut Sink,
    path: &Path,
    single: bool,
    names: &[&str],
    stems: &[String],
    ys: Vec<Tensor>,
) -> wgcnn::Result<()> {
    match sink {
        Sink::PerFile(out) => {
            let ys = if single {
                ys.iter()
                    .map(unbatched)
                    .collect::<wgcnn::Result<Vec<_>>>()?
            } else {
                ys
            };
            if let [y] = ys.as_slice() {
                OutputTarget::prepare(out.join(output_name(path, "npy")))?.write(y)
            } else {
                let arrays: Vec<(&str, &Tensor)> =
                    stems.iter().map(String::as_str).zip(&ys).collect();
                OutputTarget::prepare(out.join(output_name(path, "npz")))?.write_npz(&arrays)
            }
        }
        Sink::Stacked(_, parts) => {
            parts.resize_with(ys.len(), Vec::new);
            for (part, y) in parts.iter_mut().zip(ys) {
                part.push(y);
            }
            Ok(())
        }
        Sink::Print => {
            let label = path.display().to_string();
            print!("{}", super::show::file_outputs(&label, single, names, &ys));
            Ok(())
        }
    }
}
