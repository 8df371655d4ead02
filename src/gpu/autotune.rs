//! Picks the fastest Conv2D kernel variant per (adapter, shape) by measuring each candidate on
//! first use, and remembers the choice: in memory for the process, and in a small JSON file so
//! that later runs on the same adapter skip the measurement.
//!
//! Candidates are timed on the device's own clock (timestamp queries) where the adapter has
//! it: on a fast GPU the host's submit and read-back take longer than the kernels and made
//! every variant look the same. Each is run repeatedly until the median rises above noise
//! ([`measure`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::ConvVariant;

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

/// The choices stored in a cache file (none if it is missing or unreadable).
fn read_choices(file: &Path) -> BTreeMap<String, ConvVariant> {
    let mut choices = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(file) {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) {
            for (key, value) in map {
                let variant = ConvVariant::ALL
                    .into_iter()
                    .find(|v| Some(variant_name(*v)) == value.as_str());
                if let Some(v) = variant {
                    choices.insert(key, v);
                }
            }
        }
    }
    choices
}

/// Remembered choices, keyed by adapter and shape.
#[derive(Debug)]
pub(super) struct Autotuner {
    enabled: bool,
    file: Option<PathBuf>,
    choices: Mutex<BTreeMap<String, ConvVariant>>,
}

fn variant_name(v: ConvVariant) -> &'static str {
    match v {
        ConvVariant::Direct => "direct",
        ConvVariant::Blocked => "blocked",
        ConvVariant::Wide => "wide",
        ConvVariant::Tiled => "tiled",
        ConvVariant::Tiled64 => "tiled64",
    }
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

    /// Every remembered choice.
    pub(super) fn choices(&self) -> Vec<(String, ConvVariant)> {
        self.choices
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// The variant for `key` among `candidates`: remembered, or measured now with `time`
    /// (the run time of one candidate; errors count as infinitely slow), or — with tuning
    /// off — the first candidate.
    pub(super) fn choose(
        &self,
        key: &str,
        candidates: &[ConvVariant],
        mut time: impl FnMut(ConvVariant) -> Option<Duration>,
    ) -> ConvVariant {
        let first = candidates.first().copied().unwrap_or(ConvVariant::Direct);
        if candidates.len() < 2 || !self.enabled {
            return first;
        }
        if let Some(v) = self.choices.lock().ok().and_then(|c| c.get(key).copied()) {
            if candidates.contains(&v) {
                log::debug!("autotune {key}: {} (remembered)", variant_name(v));
                return v;
            }
        }
        let timings: Vec<(ConvVariant, Duration)> = candidates
            .iter()
            .map(|&v| (v, time(v).unwrap_or(Duration::MAX)))
            .collect();
        let best = timings
            .iter()
            .min_by_key(|(_, t)| *t)
            .map_or(first, |(v, _)| *v);
        if log::log_enabled!(log::Level::Debug) {
            let measured: Vec<String> = timings
                .iter()
                .map(|(v, t)| match *t {
                    Duration::MAX => format!("{} failed", variant_name(*v)),
                    t => format!("{} {:.3} ms", variant_name(*v), t.as_secs_f64() * 1e3),
                })
                .collect();
            log::debug!(
                "autotune {key}: {} (measured: {})",
                variant_name(best),
                measured.join(", ")
            );
        }
        if let Ok(mut choices) = self.choices.lock() {
            choices.insert(key.to_string(), best);
            self.persist(&choices);
        }
        best
    }

    /// Merges `choices` into the cache file. Under an exclusive lock on `<file>.lock`, the
    /// file is re-read (other processes may have added entries since), merged, written to a
    /// temporary file and renamed into place, so that concurrent processes neither lose each
    /// other's entries nor read half a file. A cache that cannot be written is only a cache:
    /// the choice still holds for this process.
    fn persist(&self, choices: &BTreeMap<String, ConvVariant>) {
        let Some(file) = &self.file else { return };
        if let Err(e) = Self::merge_into(file, choices) {
            log::warn!("autotune cache {} not written: {e}", file.display());
        }
    }

    fn merge_into(file: &Path, choices: &BTreeMap<String, ConvVariant>) -> std::io::Result<()> {
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
        merged.extend(choices.iter().map(|(k, v)| (k.clone(), *v)));
        let map: serde_json::Map<String, serde_json::Value> = merged
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(variant_name(*v))))
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

/// Runs at least this many timed runs per candidate ...
const MIN_RUNS: usize = 3;
/// ... and more until this much time was measured (short kernels are noisy) ...
const MIN_MEASURED: Duration = Duration::from_millis(10);
/// ... but no more than this many.
const MAX_RUNS: usize = 50;

/// The median of repeated runs of `run` (one run's time, or `None` if it failed), after one
/// untimed warm-up run: at least [`MIN_RUNS`], more while less than [`MIN_MEASURED`] was
/// measured, at most [`MAX_RUNS`]. `None` if any run failed.
pub(super) fn measure(mut run: impl FnMut() -> Option<Duration>) -> Option<Duration> {
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
