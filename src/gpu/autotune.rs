//! Picks the fastest Conv2D kernel variant per (adapter, shape) by measuring each candidate once,
//! on first use, and remembers the choice: in memory for the process, and in a small JSON file
//! so that later runs on the same adapter skip the measurement.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ConvVariant;

/// The default cache file: `$WGCNN_CACHE_DIR/autotune.json`, else
/// `$XDG_CACHE_HOME/wgcnn/autotune.json`, else `~/.cache/wgcnn/autotune.json`.
pub(super) fn default_cache_file() -> Option<PathBuf> {
    let dir = std::env::var_os("WGCNN_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("wgcnn")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/wgcnn")))?;
    Some(dir.join("autotune.json"))
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
    }
}

impl Autotuner {
    /// A tuner that measures when `enabled`, persisting to `file` if given (a missing or
    /// unreadable file just starts empty).
    pub(super) fn new(enabled: bool, file: Option<PathBuf>) -> Self {
        let mut choices = BTreeMap::new();
        if let Some(text) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
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
                return v;
            }
        }
        let best = candidates
            .iter()
            .map(|&v| (v, time(v).unwrap_or(Duration::MAX)))
            .min_by_key(|(_, t)| *t)
            .map_or(first, |(v, _)| v);
        if let Ok(mut choices) = self.choices.lock() {
            choices.insert(key.to_string(), best);
            self.persist(&choices);
        }
        best
    }

    /// Writes the cache file (to a temporary file renamed into place, so that concurrent
    /// processes never read half a file). A cache that cannot be written is only a cache:
    /// the choice still holds for this process.
    fn persist(&self, choices: &BTreeMap<String, ConvVariant>) {
        let Some(file) = &self.file else { return };
        let map: serde_json::Map<String, serde_json::Value> = choices
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(variant_name(*v))))
            .collect();
        let text = serde_json::Value::Object(map).to_string();
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, text))
            .and_then(|()| std::fs::rename(&tmp, file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Times `run` twice and keeps the faster: the first call may still pay for warm-up.
pub(super) fn time_twice(mut run: impl FnMut() -> bool) -> Option<Duration> {
    let mut best = None;
    for _ in 0..2 {
        let started = Instant::now();
        if !run() {
            return None;
        }
        let t = started.elapsed();
        best = Some(best.map_or(t, |b: Duration| b.min(t)));
    }
    best
}
