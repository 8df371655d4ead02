//! `wgcnn run`: which files feed which model input, where each output goes, the forward pass
//! in passes of `--batch-size` examples, and `--compare` (`--input-dir`: `input_dir.rs`).
//!
//! Arrays come as `.npy` files (one per input or output, `NAME=FILE.npy` where the model has
//! several) or as one `.npz` archive holding them all by name (`np.savez(path, **arrays)`;
//! unnamed `arr_0`, `arr_1`, … are taken in the model's order; a model with one input or
//! output takes an archive's one array whatever its name).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wgcnn::npy::{read_npy, read_npz, OutputTarget};
use wgcnn::{Backend, Gpu, Model, Tensor, TensorView};

use super::backend::{self, compile_for_gpu, cpu_name, gpu_name};
use super::progress;
use crate::RunArgs;

/// `wgcnn run`: exits with status 1 when `--compare` finds a difference beyond the
/// tolerances (the outputs are written all the same).
pub(crate) fn main(args: RunArgs) -> wgcnn::Result<ExitCode> {
    let RunArgs {
        model,
        inputs: input_args,
        random_input,
        outputs: output_args,
        output_dir,
        backend,
        batch_size,
        compare: compare_args,
        rtol,
        atol,
        // `--input-dir` runs `input_dir.rs` instead (dispatched in main.rs).
        input_dir: _,
    } = args;
    let model = Model::load(&model)?;
    let batch_size = batch_size.map(|b| usize::try_from(b).unwrap_or(usize::MAX));
    let xs = match random_input {
        Some(n) => model.synthetic_inputs(usize::try_from(n).unwrap_or(usize::MAX))?,
        None => inputs(&model, &input_args)?,
    };
    let expected = expected(&model, &compare_args)?;
    // Bad input, expected arrays of the wrong shape included, is reported before any
    // output is created or device opened.
    let shapes: Vec<&[usize]> = xs.iter().map(Tensor::shape).collect();
    let batch = model.check_inputs(&shapes)?;
    check_expected(&model, &expected, batch)?;
    let outputs = outputs(&model, &output_args, output_dir.as_deref())?;
    let backend = backend::resolve(backend);
    let (ys, device) = forward(&model, backend, &xs, batch, batch_size)?;
    // Written before the comparison: a mismatch is worth inspecting; the exit status
    // says the comparison failed.
    outputs.write(&ys, &device)?;
    let names = model.output_names();
    if matches!(outputs, Outputs::Print) {
        print!("{}", super::show::outputs(&names, &ys));
        println!("[{device}]");
    }
    let mut all_close = true;
    for (k, want, source) in &expected {
        all_close &= compare(names[*k], &ys[*k], want, source, rtol, atol)?;
    }
    Ok(if all_close {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn bad(reason: String) -> wgcnn::Error {
    wgcnn::Error::InvalidArgument { op: "run", reason }
}

/// `NAME=FILE.npz`: an archive names its arrays itself.
fn npz_with_name() -> wgcnn::Error {
    bad(
        "an .npz archive names its arrays itself: give it without NAME= (--input FILE.npz, \
         --output FILE.npz, --compare FILE.npz)"
            .into(),
    )
}

fn is_npz(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// A model's input or output names, and the safe file stems wgcnn writes them under
/// ([`wgcnn::names`]), looked up in constant time: a model may have thousands.
struct Names<'m> {
    /// The layer names, as the model has them (repeats included).
    names: Vec<&'m str>,
    /// Unique, safe file stems: `--output-dir`'s files and the `.npz` members wgcnn writes.
    stems: Vec<String>,
    /// The first position of each name.
    by_name: HashMap<&'m str, usize>,
    by_stem: HashMap<String, usize>,
}

impl<'m> Names<'m> {
    fn new(names: Vec<&'m str>) -> Self {
        let stems = wgcnn::names::unique_file_stems(&names);
        let mut by_name = HashMap::with_capacity(names.len());
        for (k, &n) in names.iter().enumerate() {
            by_name.entry(n).or_insert(k);
        }
        let by_stem = stems
            .iter()
            .enumerate()
            .map(|(k, s)| (s.clone(), k))
            .collect();
        Self {
            names,
            stems,
            by_name,
            by_stem,
        }
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    /// `NAME` of a `NAME=FILE` argument: the layer's name, else its file stem (which tells
    /// apart an output listed twice).
    fn typed(&self, name: &str) -> Option<usize> {
        self.by_name
            .get(name)
            .or_else(|| self.by_stem.get(name))
            .copied()
    }

    /// An `.npz` array: by file stem (so wgcnn's own archives read back exactly), else by the
    /// layer's name, else `arr_K` as the K-th.
    fn npz_slot(&self, array: &str) -> Option<usize> {
        self.by_stem
            .get(array)
            .or_else(|| self.by_name.get(array))
            .copied()
            .or_else(|| {
                array
                    .strip_prefix("arr_")
                    .and_then(|k| k.parse::<usize>().ok())
                    .filter(|&k| k < self.len())
            })
    }

    fn listed(&self) -> String {
        self.names.join(", ")
    }
}

/// Which of `names` each `.npz` array is: `(index, array name, array)`; `what` is "input"
/// or "output" for messages.
fn place_npz(
    path: &str,
    arrays: Vec<(String, Tensor)>,
    names: &Names<'_>,
    what: &str,
) -> wgcnn::Result<Vec<(usize, String, Tensor)>> {
    // One array for a model with one input (or output) is that one, whatever its name
    // (np.savez(path, x=x)).
    let only = names.len() == 1 && arrays.len() == 1;
    let mut given = vec![false; names.len()];
    let mut placed: Vec<(usize, String, Tensor)> = Vec::with_capacity(arrays.len());
    for (array, tensor) in arrays {
        let k = names
            .npz_slot(&array)
            .or(only.then_some(0))
            .ok_or_else(|| {
                bad(format!(
                    "{path} holds '{array}', which is no model {what} (the {what}s: {})",
                    names.listed()
                ))
            })?;
        if std::mem::replace(&mut given[k], true) {
            return Err(bad(format!("{what} '{}' is given twice", names.names[k])));
        }
        placed.push((k, array, tensor));
    }
    Ok(placed)
}

/// Reads `--input` values (`[NAME=]FILE.npy` or `FILE.npz`) into one tensor per model input,
/// in the model's order.
fn inputs(model: &Model, args: &[String]) -> wgcnn::Result<Vec<Tensor>> {
    let specs = model.inputs();
    let names = Names::new(specs.iter().map(|(n, _)| *n).collect());
    let mut slots: Vec<Option<Tensor>> = vec![None; specs.len()];
    for arg in args {
        let named = arg
            .split_once('=')
            .and_then(|(name, path)| Some((names.typed(name)?, path)));
        let (slot, path) = match named {
            Some(_) if is_npz(arg) => return Err(npz_with_name()),
            Some((k, path)) => (k, path),
            None if is_npz(arg) => {
                // An array that is no model input is refused by name below, whatever it holds;
                // a one-input model takes any one array.
                let integer = |name: &str| {
                    names
                        .npz_slot(name)
                        .or((names.len() == 1).then_some(0))
                        .is_none_or(|k| specs[k].1.is_integer())
                };
                for (k, _, tensor) in place_npz(arg, read_npz(arg, integer)?, &names, "input")? {
                    if slots[k].replace(tensor).is_some() {
                        return Err(bad(format!("input '{}' is given twice", names.names[k])));
                    }
                }
                continue;
            }
            // `NAME=FILE` naming no input (and no file of that whole name): say so.
            None if arg
                .split_once('=')
                .is_some_and(|(name, _)| !name.is_empty() && !Path::new(arg).exists()) =>
            {
                let name = arg.split_once('=').map_or("", |(n, _)| n);
                return Err(bad(format!(
                    "--input {arg}: the model has no input named '{name}'; its inputs: {}",
                    names.listed()
                )));
            }
            None if specs.len() == 1 => (0, arg.as_str()),
            None => {
                return Err(bad(format!(
                    "the model has {} inputs ({}): give each as --input NAME=FILE.npy, or all \
                     of them as --input FILE.npz",
                    specs.len(),
                    names.listed()
                )))
            }
        };
        let tensor = wgcnn::npy::read_npy_input(path, specs[slot].1.is_integer())?;
        if slots[slot].replace(tensor).is_some() {
            return Err(bad(format!("input '{}' is given twice", names.names[slot])));
        }
    }
    slots
        .into_iter()
        .zip(&names.names)
        .map(|(t, name)| t.ok_or_else(|| bad(format!("input '{name}' is missing"))))
        .collect()
}

/// Where outputs go, checked before anything is computed.
pub(super) enum Outputs {
    /// `(output index, file)` per `.npy` written.
    Each(Vec<(usize, OutputTarget)>),
    /// Every output into one `.npz`, with each output's member name (as `--output-dir` names
    /// the files).
    Npz(OutputTarget, Vec<String>),
    /// Nowhere: printed instead (no `--output` or `--output-dir`).
    Print,
}

/// Resolves `--output [NAME=]FILE.npy`, `--output FILE.npz` or `--output-dir DIR`. Files in
/// `DIR` and `.npz` members are named by [`wgcnn::names`]: never by the model's raw names.
pub(super) fn outputs(
    model: &Model,
    args: &[String],
    dir: Option<&Path>,
) -> wgcnn::Result<Outputs> {
    let names = Names::new(model.output_names());
    if args.is_empty() && dir.is_none() {
        return Ok(Outputs::Print);
    }
    if let [single] = args {
        if is_npz(single) && !single.contains('=') {
            return Ok(Outputs::Npz(OutputTarget::prepare(single)?, names.stems));
        }
    }
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| wgcnn::Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let targets: Vec<(usize, PathBuf)> = match dir {
        // Safe stems: each file lands in `dir` itself.
        Some(dir) => names
            .stems
            .iter()
            .enumerate()
            .map(|(k, stem)| (k, dir.join(format!("{stem}.npy"))))
            .collect(),
        None => named_outputs(&names, args)?,
    };
    let mut prepared = Vec::with_capacity(targets.len());
    for (k, path) in targets {
        if names.len() > 1 && path.as_os_str() == "-" {
            return Err(bad("standard output (-) takes one output only".into()));
        }
        prepared.push((k, OutputTarget::prepare(&path)?));
    }
    Ok(Outputs::Each(prepared))
}

impl Outputs {
    /// Writes the outputs `ys` and says what was written (computed on `device`).
    pub(super) fn write(&self, ys: &[Tensor], device: &str) -> wgcnn::Result<()> {
        match self {
            Self::Each(targets) => {
                for (k, target) in targets {
                    target.write(&ys[*k])?;
                    report(target, &format!("shape {:?}", ys[*k].shape()), device);
                }
            }
            Self::Npz(target, stems) => {
                let arrays: Vec<(&str, &Tensor)> =
                    stems.iter().map(String::as_str).zip(ys).collect();
                target.write_npz(&arrays)?;
                let shapes: Vec<String> = arrays
                    .iter()
                    .map(|(n, t)| format!("{n} {:?}", t.shape()))
                    .collect();
                report(target, &shapes.join(", "), device);
            }
            Self::Print => {}
        }
        Ok(())
    }
}

/// One line for a file written: on stdout, or on stderr when the data itself went to stdout.
pub(crate) fn report(output: &OutputTarget, what: &str, device: &str) {
    match output {
        OutputTarget::Stdout => eprintln!("wrote standard output {what} [{device}]"),
        OutputTarget::File(path) | OutputTarget::Special(path) => {
            println!("wrote {} {what} [{device}]", path.display())
        }
    }
}

/// `[NAME=]FILE` arguments naming model outputs: `(output index, file)`. NAME is the layer's
/// own name (the user chose the path), or its file stem for an output listed twice.
fn named_outputs(names: &Names<'_>, args: &[String]) -> wgcnn::Result<Vec<(usize, PathBuf)>> {
    args.iter()
        .map(|arg| {
            let named = arg
                .split_once('=')
                .and_then(|(name, path)| Some((names.typed(name)?, path)));
            match (arg.split_once('='), named) {
                (Some((_, path)), _) if is_npz(path) => Err(npz_with_name()),
                (_, Some((k, path))) => Ok((k, PathBuf::from(path))),
                _ if names.len() == 1 && args.len() == 1 => Ok((0, PathBuf::from(arg))),
                _ => Err(bad(format!(
                    "the model has {} outputs ({}): give --output NAME=FILE.npy (or --compare \
                     NAME=FILE.npy) for each one wanted, --output FILE.npz for all of them, or \
                     --output-dir DIR",
                    names.len(),
                    names.listed()
                ))),
            }
        })
        .collect()
}

/// `--compare` values: `(output index, expected, file)`, from `[NAME=]FILE.npy` or `FILE.npz`.
fn expected(model: &Model, args: &[String]) -> wgcnn::Result<Vec<(usize, Tensor, String)>> {
    let names = Names::new(model.output_names());
    let mut found = Vec::new();
    let mut npy_args = Vec::new();
    for arg in args {
        if is_npz(arg) && !arg.contains('=') {
            for (k, array, t) in place_npz(arg, read_npz(arg, |_| false)?, &names, "output")? {
                found.push((k, t, format!("{arg}[{array}]")));
            }
        } else {
            npy_args.push(arg.clone());
        }
    }
    for (k, path) in named_outputs(&names, &npy_args)? {
        found.push((k, read_npy(&path)?, path.display().to_string()));
    }
    Ok(found)
}

/// Checks, before anything runs, that each expected array has the shape its output will
/// have for `batch` examples: a shape mismatch is an error, not a failed comparison.
fn check_expected(
    model: &Model,
    expected: &[(usize, Tensor, String)],
    batch: usize,
) -> wgcnn::Result<()> {
    let shapes = model.output_shapes();
    let names = model.output_names();
    for (k, want, source) in expected {
        let shape = [&[batch][..], &shapes[*k]].concat();
        if want.shape() != shape.as_slice() {
            return Err(wgcnn::Error::InvalidArgument {
                op: "run --compare",
                reason: format!(
                    "{source} has shape {:?}, but output '{}' has shape {shape:?} for these inputs",
                    want.shape(),
                    names[*k]
                ),
            });
        }
    }
    Ok(())
}

/// Tensors of the same trailing shape, one after another along the first dimension.
pub(super) fn concat(parts: Vec<Tensor>) -> wgcnn::Result<Tensor> {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Err(bad("no examples".into()));
    };
    let mut shape = first.shape().to_vec();
    let mut data = first.into_data();
    for part in parts {
        shape[0] += part.shape()[0];
        data.extend_from_slice(part.data());
    }
    Tensor::new(shape, data)
}

/// The forward pass on `backend`, in passes of at most `batch_size` examples (`None`: the
/// whole input at once on the CPU backends, as many as fit per GPU round), with a progress
/// bar over the passes. Returns the outputs and what computed them.
fn forward(
    model: &Model,
    backend: Backend,
    xs: &[Tensor],
    batch: usize,
    batch_size: Option<usize>,
) -> wgcnn::Result<(Vec<Tensor>, String)> {
    let refs: Vec<&Tensor> = xs.iter().collect();
    let mut compiled = None;
    let device = match backend {
        Backend::Gpu => {
            let gpu = Gpu::shared()?;
            let per_round = batch_size.unwrap_or(usize::MAX).min(batch);
            let program = compile_for_gpu(model, gpu, per_round)?;
            compiled = Some(program);
            gpu_name(gpu)
        }
        Backend::Cpu => cpu_name(),
        Backend::Reference => "reference".into(),
    };
    // One pass unless --batch-size splits the input; on the GPU the program itself runs as
    // many rounds as its buffers need, so the bar counts the program's rounds.
    let per_pass = match &compiled {
        Some(c) => c.chunk_size().max(1),
        None => batch_size.unwrap_or(batch).max(1),
    };
    let passes = batch.div_ceil(per_pass);
    if passes <= 1 {
        // A spinner on the GPU too: lavapipe compiles each shader at its first dispatch, so
        // without Mesa's shader cache a process's first run takes seconds.
        let ys = match compiled.as_mut() {
            Some(c) => progress::spinner("running", || c.run_many(&refs))?,
            None => progress::spinner("running", || model.run_many(backend, &refs))?,
        };
        return Ok((ys, device));
    }
    let bar = progress::bar(passes as u64, "batches");
    let mut per_output: Vec<Vec<Tensor>> = Vec::new();
    for pass in 0..passes {
        let (start, end) = (pass * per_pass, ((pass + 1) * per_pass).min(batch));
        // This pass's examples, borrowed from the whole input.
        let shapes: Vec<Vec<usize>> = xs
            .iter()
            .map(|x| [&[end - start][..], &x.shape()[1..]].concat())
            .collect();
        let views = xs
            .iter()
            .zip(&shapes)
            .map(|(x, shape)| {
                let per: usize = shape[1..].iter().product();
                TensorView::new(shape, &x.data()[start * per..end * per])
            })
            .collect::<wgcnn::Result<Vec<_>>>()?;
        let ys = match compiled.as_mut() {
            Some(c) => c.run_views(&views)?,
            // The CPU backends take tensors that own their data.
            None => {
                let part: Vec<Tensor> = views.iter().map(TensorView::to_tensor).collect();
                model.run_many(backend, &part.iter().collect::<Vec<_>>())?
            }
        };
        per_output.resize_with(ys.len(), Vec::new);
        for (k, y) in ys.into_iter().enumerate() {
            per_output[k].push(y);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let ys = per_output
        .into_iter()
        .map(concat)
        .collect::<wgcnn::Result<_>>()?;
    Ok((ys, device))
}

/// `run --compare`: prints the largest differences between `y` and `expected` and whether
/// they are within the tolerance everywhere ([`Tensor::compare`]).
fn compare(
    name: &str,
    y: &Tensor,
    expected: &Tensor,
    source: &str,
    rtol: f64,
    atol: f64,
) -> wgcnn::Result<bool> {
    let c = y
        .compare(expected, rtol, atol)
        .map_err(|_| wgcnn::Error::InvalidArgument {
            op: "run --compare",
            reason: format!(
                "{source} has shape {:?}, but output '{name}' has shape {:?}",
                expected.shape(),
                y.shape()
            ),
        })?;
    println!(
        "compare {name} with {source}: max |diff| {:.3e}, max relative {:.3e}, \
         {} of {} beyond atol {atol:e} + rtol {rtol:e}: {}",
        c.max_abs,
        c.max_rel,
        c.beyond,
        y.data().len(),
        if c.all_close() { "ok" } else { "MISMATCH" }
    );
    if let Some(w) = &c.worst {
        println!(
            "  worst at index {:?}: got {}, expected {}",
            w.index, w.actual, w.expected
        );
    }
    Ok(c.all_close())
}
