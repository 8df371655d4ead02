//! Picks the fastest way to run an op per (adapter, shape) by measuring each candidate on first
//! use, and remembers the choice: in memory for the process, and in a small JSON file so that
//! later runs on the same adapter skip the measurement. What is chosen: the Conv2D kernel variant
//! ([`conv`]), whether a Dense over few rows splits its reduction ([`dense`]), and how softmax
//! and LayerNormalization cover their rows ([`rows`]).
//!
//! Candidates are timed on the device's own clock (timestamp queries) where the adapter has
//! it: on a fast GPU the host's submit and read-back take longer than the kernels and made
//! every variant look the same. Each is run repeatedly until the median rises above noise
//! ([`measure`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

#[cfg(feature = "native")]
use super::program::Program;
#[cfg(feature = "native")]
use super::Gpu;

pub(super) mod conv;
pub(super) mod dense;
pub(super) mod rows;

/// Something the autotuner chooses between: a kernel variant or a layout, named in the cache
/// file.
pub(crate) trait Choice: Copy + PartialEq {
    /// The name the cache file stores (stable across releases: renaming one re-measures).
    fn name(self) -> &'static str;
}

/// wgcnn's cache directory: `$WGCNN_CACHE_DIR`, else `wgcnn` in the platform's cache directory
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%`
/// on Windows). An empty `WGCNN_CACHE_DIR` counts as unset (not as the current directory).
pub(super) fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("WGCNN_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("wgcnn")))
}

/// The default cache file: `autotune.json` in [`default_cache_dir`].
pub(super) fn default_cache_file() -> Option<PathBuf> {
    Some(default_cache_dir()?.join("autotune.json"))
}

/// The choices stored in a cache file (none if it is missing or unreadable), by name: a name
/// no candidate has any more is ignored when it is looked up.
fn read_choices(file: &Path) -> BTreeMap<String, String> {
    let mut choices = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(file) {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) {
            for (key, value) in map {
                if let serde_json::Value::String(name) = value {
                    choices.insert(key, name);
                }
            }
        }
    }
    choices
}

/// Remembered choices by name, keyed by adapter and shape.
#[derive(Debug)]
pub(super) struct Autotuner {
    enabled: bool,
    file: Option<PathBuf>,
    choices: Mutex<BTreeMap<String, String>>,
}

impl Autotuner {
    /// A tuner that measures when `enabled`, persisting to `file` if given (a missing or
    /// unreadable file just starts empty).
    pub(super) fn new(enabled: bool, file: Option<PathBuf>) -> Self {
        let choices = file.as_deref().map(read_choices).unwrap_or_default();
        Self {
            enabled,
            file,
            choices: Mutex::new(choices),
        }
    }

    /// Whether choices are measured (otherwise the first candidate is taken).
    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Every remembered choice: `(key, name)`.
    pub(super) fn choices(&self) -> Vec<(String, String)> {
        self.choices
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The choice for `key` among `candidates` (at least one): remembered, or measured now with
    /// `time` (the run time of one candidate; errors count as infinitely slow), or — with
    /// tuning off, or a single candidate — the first.
    pub(super) fn choose<T: Choice>(
        &self,
        key: &str,
        candidates: &[T],
        mut time: impl FnMut(T) -> Option<Duration>,
    ) -> Option<T> {
        let first = *candidates.first()?;
        if candidates.len() < 2 || !self.enabled {
            return Some(first);
        }
        let remembered = self.choices.lock().ok().and_then(|c| c.get(key).cloned());
        if let Some(c) = candidates
            .iter()
            .find(|c| Some(c.name()) == remembered.as_deref())
        {
            log::debug!("autotune {key}: {} (remembered)", c.name());
            return Some(*c);
        }
        let timings: Vec<(T, Duration)> = candidates
            .iter()
            .map(|&c| (c, time(c).unwrap_or(Duration::MAX)))
            .collect();
        let best = timings
            .iter()
            .min_by_key(|(_, t)| *t)
            .map_or(first, |(c, _)| *c);
        if log::log_enabled!(log::Level::Debug) {
            let measured: Vec<String> = timings
                .iter()
                .map(|(c, t)| match *t {
                    Duration::MAX => format!("{} failed", c.name()),
                    t => format!("{} {:.3} ms", c.name(), t.as_secs_f64() * 1e3),
                })
                .collect();
            log::debug!(
                "autotune {key}: {} (measured: {})",
                best.name(),
                measured.join(", ")
            );
        }
        if let Ok(mut choices) = self.choices.lock() {
            choices.insert(key.to_string(), best.name().to_string());
            self.persist(&choices);
        }
        Some(best)
    }

    /// Merges `choices` into the cache file. Under an exclusive lock on `<file>.lock`, the
    /// file is re-read (other processes may have added entries since), merged, written to a
    /// temporary file and renamed into place, so that concurrent processes neither lose each
    /// other's entries nor read half a file. A cache that cannot be written is only a cache:
    /// the choice still holds for this process.
    fn persist(&self, choices: &BTreeMap<String, String>) {
        let Some(file) = &self.file else { return };
        if let Err(e) = Self::merge_into(file, choices) {
            log::warn!("autotune cache {} not written: {e}", file.display());
        }
    }

    fn merge_into(file: &Path, choices: &BTreeMap<String, String>) -> std::io::Result<()> {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut lock_name = file.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(lock_name))?;
        lock.lock()?;
        let mut merged = read_choices(file);
        merged.extend(choices.iter().map(|(k, v)| (k.clone(), v.clone())));
        let map: serde_json::Map<String, serde_json::Value> = merged
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let text = serde_json::Value::Object(map).to_string();
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        // Dropping `lock` releases it.
        written
    }
}

/// The start of every key: the adapter, its back end and driver, how candidates are timed (a
/// choice made on host time, submit and read-back included, does not stand for device time)
/// and the candidates' names in their fixed order (a choice made before a candidate existed is
/// stale), followed by `what`: the op and its shape.
#[cfg(feature = "native")]
pub(super) fn key<T: Choice>(gpu: &Gpu, candidates: &[T], what: std::fmt::Arguments<'_>) -> String {
    let info = gpu.adapter_info();
    let names: Vec<&str> = candidates.iter().map(|c| c.name()).collect();
    format!(
        "{} | {:?} | {} | {} | {names:?} | {what}",
        info.name,
        info.backend,
        info.driver_info,
        match gpu.device_timing() {
            super::DeviceTiming::Timestamps => "device time",
            super::DeviceTiming::Unavailable => "host time",
        },
    )
}

/// One candidate's time: the median of repeated runs of `program` (loaded with its input), on
/// the device's clock where it has one, else the host's (read-back included).
#[cfg(feature = "native")]
pub(super) fn time_program(program: &mut Program<'_>) -> Option<Duration> {
    measure(|| match program.time_loaded() {
        Ok(Some(device)) => Some(device),
        Ok(None) => {
            let started = std::time::Instant::now();
            program.run_loaded().ok()?;
            Some(started.elapsed())
        }
        Err(_) => None,
    })
}

/// Runs at least this many timed runs per candidate ...
#[cfg(feature = "native")]
const MIN_RUNS: usize = 3;
/// ... and more until this much time was measured (short kernels are noisy) ...
#[cfg(feature = "native")]
const MIN_MEASURED: Duration = Duration::from_millis(10);
/// ... but no more than this many.
#[cfg(feature = "native")]
const MAX_RUNS: usize = 50;

/// The median of repeated runs of `run` (one run's time, or `None` if it failed), after one
/// untimed warm-up run: at least [`MIN_RUNS`], more while less than [`MIN_MEASURED`] was
/// measured, at most [`MAX_RUNS`]. `None` if any run failed.
#[cfg(feature = "native")]
fn measure(mut run: impl FnMut() -> Option<Duration>) -> Option<Duration> {
    run()?;
    let mut times = Vec::with_capacity(MIN_RUNS);
    let mut measured = Duration::ZERO;
    while times.len() < MIN_RUNS || (measured < MIN_MEASURED && times.len() < MAX_RUNS) {
        let t = run()?;
        measured += t;
        times.push(t);
    }
    times.sort();
    Some(times[times.len() / 2])
}
