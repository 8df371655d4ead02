//! The pipeline cache: where the adapter offers wgpu's `PIPELINE_CACHE` (Vulkan), compiling a
//! model saves the compiled pipelines to a file in the cache directory, the next device loads
//! it, a damaged file is survived and replaced, and devices saving at once leave a whole file.
//! Where the adapter offers none (GL), nothing is written. Runs on the GPU: no adapter fails.

mod common;

use std::path::{Path, PathBuf};

use wgcnn::gpu::PipelineCacheStatus;
use wgcnn::npy::read_npy;
use wgcnn::wgpu::{Backend, Features};
use wgcnn::{Gpu, GpuOptions, Model, Tensor};

/// wgcnn's header before wgpu's data: magic, length, hash.
const HEADER: usize = 24;

/// A temporary cache directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "wgcnn-pipeline-cache-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        Dir(path)
    }

    /// The names of the files in the directory, sorted (none if it does not exist).
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A device keeping its pipelines in `dir` (autotuning off: it would compile every variant).
fn open(dir: &Path) -> Gpu {
    Gpu::with_options(GpuOptions {
        autotune: false,
        autotune_cache: None,
        pipeline_cache_dir: Some(dir.to_path_buf()),
        ..GpuOptions::default()
    })
    .unwrap_or_else(|e| panic!("this test needs a GPU adapter (e.g. Mesa lavapipe): {e}"))
}

/// A model using many kernels (every layer it supports), with its input.
fn model() -> (Model, Tensor) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    let model = Model::load(dir.join("every_layer.keras")).unwrap();
    let x = read_npy(dir.join("every_layer.input.npy")).unwrap();
    (model, x)
}

/// Compiles the model on `gpu` and runs it.
fn run(gpu: &Gpu, model: &Model, x: &Tensor) -> Tensor {
    model.compile(gpu, x.shape()[0]).unwrap().run(x).unwrap()
}

/// The bytes of cached data a device loads from `file`, as [`Gpu::pipeline_cache`] reports.
fn loaded(file: &Path) -> PipelineCacheStatus {
    let len = std::fs::metadata(file).map_or(0, |m| m.len() as usize);
    PipelineCacheStatus::File {
        file: file.to_path_buf(),
        loaded: len.saturating_sub(HEADER),
    }
}

#[test]
fn pipelines_are_saved_loaded_by_the_next_device_and_damaged_files_replaced() {
    let dir = Dir::new("kept");
    let (model, x) = model();
    let first = open(&dir.0);
    let PipelineCacheStatus::File { file, loaded: 0 } = first.pipeline_cache() else {
        // No pipeline cache: only because the adapter offers none, and wgpu has one on Vulkan.
        assert_eq!(first.pipeline_cache(), PipelineCacheStatus::Unsupported);
        assert!(!first.features().contains(Features::PIPELINE_CACHE));
        assert_ne!(first.adapter_info().backend, Backend::Vulkan);
        run(&first, &model, &x);
        assert_eq!(dir.files(), Vec::<String>::new(), "nothing is written");
        return;
    };
    assert!(first.features().contains(Features::PIPELINE_CACHE));
    assert_eq!(file.parent(), Some(dir.0.as_path()));
    assert!(!file.exists());
    let expected = run(&first, &model, &x);
    let saved = std::fs::read(&file).expect("compiling saved the pipeline cache");
    assert!(saved.starts_with(b"WGCNNPC1") && saved.len() > HEADER);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(dir.files(), vec![name.clone()], "no temporary file is left");

    // The next device starts with all of it and computes the same.
    let second = open(&dir.0);
    assert_eq!(second.pipeline_cache(), loaded(&file));
    assert_eq!(run(&second, &model, &x), expected);

    // Garbage, a cut file, one flipped bit (which wgpu's own header would not notice: it does
    // not hash the data): not loaded, the model runs, and the file is replaced by a good one.
    let mut flipped = saved.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let damaged = [
        b"not a pipeline cache".to_vec(),
        saved[..saved.len() / 2].to_vec(),
        flipped,
        Vec::new(),
    ];
    for bytes in damaged {
        std::fs::write(&file, &bytes).unwrap();
        let gpu = open(&dir.0);
        assert_eq!(
            gpu.pipeline_cache(),
            PipelineCacheStatus::File {
                file: file.clone(),
                loaded: 0
            },
            "{} damaged bytes",
            bytes.len()
        );
        assert_eq!(run(&gpu, &model, &x), expected);
        let again = open(&dir.0).pipeline_cache();
        assert!(
            matches!(again, PipelineCacheStatus::File { loaded, .. } if loaded > 0),
            "{again:?}"
        );
        assert_eq!(again, loaded(&file));
    }
    assert_eq!(dir.files(), vec![name]);
}

#[test]
fn devices_saving_at_once_leave_one_whole_file() {
    let dir = Dir::new("together");
    let (model, x) = model();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| run(&open(&dir.0), &model, &x));
        }
    });
    let gpu = open(&dir.0);
    match gpu.pipeline_cache() {
        PipelineCacheStatus::File { file, loaded } => {
            assert!(loaded > 0);
            assert_eq!(gpu.pipeline_cache(), self::loaded(&file));
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(dir.files(), vec![name], "no temporary file is left");
        }
        status => {
            assert_eq!(status, PipelineCacheStatus::Unsupported);
            assert!(!gpu.features().contains(Features::PIPELINE_CACHE));
            assert_eq!(dir.files(), Vec::<String>::new());
        }
    }
}

#[test]
fn without_a_cache_directory_nothing_is_kept() {
    let gpu = common::gpu();
    assert_eq!(gpu.pipeline_cache(), PipelineCacheStatus::Off);
    assert!(!gpu.features().contains(Features::PIPELINE_CACHE));
}
