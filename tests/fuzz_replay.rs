//! Replays, on the stable toolchain, every input the fuzz targets (`fuzz/`) start from or ever
//! found: the seed corpus, the corpus grown by fuzzing, past crashes (`fuzz/regressions/`) and
//! the test fixtures, through the same entry points (`wgcnn::fuzzing`). Any error is fine; a
//! panic fails the test and names the file.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The files of `dir` (recursively) whose name ends in one of `extensions` (all when empty).
fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, extensions));
        } else if extensions.is_empty()
            || extensions
                .iter()
                .any(|e| path.to_string_lossy().ends_with(e))
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs `target` on every file of the target's corpus, regressions and `fixtures`.
fn replay(target: &str, run: fn(&[u8]), fixtures: &[(&str, &[&str])]) -> usize {
    let fuzz = Path::new(ROOT).join("fuzz");
    let mut inputs = files(&fuzz.join("corpus").join(target), &[]);
    inputs.extend(files(&fuzz.join("regressions").join(target), &[]));
    for (dir, extensions) in fixtures {
        inputs.extend(files(&Path::new(ROOT).join(dir), extensions));
    }
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("the {target} target panics on {}", path.display());
        }
    }
    inputs.len()
}

#[test]
fn npy_corpus() {
    let n = replay(
        "npy",
        wgcnn::fuzzing::npy,
        &[("tests/fixtures", &[".npy"]), ("models", &[".npy"])],
    );
    assert!(n >= 20, "{n} inputs");
}

#[test]
fn config_corpus_and_regressions() {
    let n = replay(
        "config",
        wgcnn::fuzzing::config,
        &[("tests/fixtures", &[".json"]), ("models", &[".json"])],
    );
    assert!(n >= 20, "{n} inputs");
}

#[test]
fn keras_corpus() {
    let n = replay(
        "keras",
        wgcnn::fuzzing::keras,
        &[("tests/fixtures", &[".keras"]), ("models", &[".keras"])],
    );
    assert!(n >= 5, "{n} inputs");
}
