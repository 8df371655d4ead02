//! `--backend auto` of the commands that compute once, the device names printed beside
//! results and timings, and compiling a model for the GPU with its steps shown.

use wgcnn::model::GpuModel;
use wgcnn::{Backend, Gpu, Model};

use super::progress;

/// `--backend` of the commands that compute once: `auto` (`None`) or a backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackendChoice(Option<Backend>);

pub(crate) fn parse_backend_choice(s: &str) -> Result<BackendChoice, String> {
    if s == "auto" {
        Ok(BackendChoice(None))
    } else {
        s.parse()
            .map(|b| BackendChoice(Some(b)))
            .map_err(|_: String| {
                format!("unknown backend '{s}' (expected auto, gpu, cpu or reference)")
            })
    }
}

/// `--backend auto`: the GPU when wgpu finds a hardware adapter; otherwise the fast CPU
/// backend, with one line on stderr saying why (a software adapter such as llvmpipe runs on the
/// same cores as the CPU backend, and slower). An explicit `--backend gpu` still uses it.
pub(crate) fn resolve(choice: BackendChoice) -> Backend {
    if let Some(backend) = choice.0 {
        return backend;
    }
    let auto = Backend::auto();
    if let Some(note) = auto.note {
        let hint = if auto.software_adapter {
            " (--backend gpu uses the adapter anyway)"
        } else {
            ""
        };
        eprintln!("note: {note}{hint}");
    }
    auto.backend
}

/// The adapter a GPU result came from: `gpu: NAME (BACKEND)`.
pub(crate) fn gpu_name(gpu: &Gpu) -> String {
    let info = gpu.adapter_info();
    format!("gpu: {} ({:?})", info.name, info.backend)
}

/// The fast CPU backend and its threads: `cpu: gemm, N threads`.
pub(crate) fn cpu_name() -> String {
    match rayon::current_num_threads() {
        1 => "cpu: gemm, 1 thread".to_string(),
        n => format!("cpu: gemm, {n} threads"),
    }
}

/// [`Model::compile`] in its two steps, each shown as it runs and timed
/// ([`progress::step`]): choosing the kernels (autotuning shapes new to the adapter, uploading
/// the weights), then compiling the pipelines (fast when the pipeline cache has them).
pub(crate) fn compile_for_gpu<'g>(
    model: &Model,
    gpu: &'g Gpu,
    max_batch: usize,
) -> wgcnn::Result<GpuModel<'g>> {
    let lowered = progress::step("autotuning kernels, uploading weights", || {
        model.lower(gpu, max_batch)
    })?;
    progress::step("compiling GPU pipelines", || lowered.compile())
}
