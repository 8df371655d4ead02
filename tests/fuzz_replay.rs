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

/// xorshift64: the sweep's pseudo-random bytes, the same on every machine.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The `graph` target's corpus and past findings, and its hand-written seeds, which must load:
/// they pin down the decoder's byte layout (fuzz/make_seeds.py).
#[test]
fn graph_corpus_and_regressions() {
    let n = replay("graph", wgcnn::fuzzing::graph, &[]);
    assert!(n >= 8, "{n} inputs");
    let seeds = Path::new(ROOT).join("fuzz/corpus/graph");
    for seed in [
        "shared_dense_a_b_a",
        "nested_model_twice_concat",
        "conv_bn_relu_residual_depth3",
        "multi_output_nested_reused",
    ] {
        let data = std::fs::read(seeds.join(format!("{seed}.bin"))).unwrap();
        let json = wgcnn::fuzzing::graph_case(&data).json;
        if let Err(e) = wgcnn::Model::from_json(&json) {
            panic!("seed {seed} no longer loads: {e}");
        }
    }
}

/// 2,000 pseudo-random inputs through the `graph` target, so that CI runs the decoder, the
/// loader and both CPU backends on graphs no one wrote, without cargo-fuzz. The decoder must
/// stay useful: valid-mode inputs load, and rule-breaking ones both load and fail.
#[test]
fn graph_sweep() {
    let mut state = 0x9E37_79B9_7F4A_7C15;
    // (loaded, rejected) for valid-mode and rule-breaking inputs.
    let mut counts = [[0usize; 2]; 2];
    for i in 0..2000 {
        let len = (xorshift(&mut state) % 256) as usize;
        let data: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
        if std::panic::catch_unwind(|| wgcnn::fuzzing::graph(&data)).is_err() {
            panic!("the graph target panics on sweep input {i}: {data:?}");
        }
        let broken = data.first().is_some_and(|b| b % 4 >= 2);
        let json = wgcnn::fuzzing::graph_case(&data).json;
        let loaded = wgcnn::Model::from_json(&json).is_ok();
        counts[usize::from(broken)][usize::from(!loaded)] += 1;
    }
    let [[valid_ok, valid_err], [broken_ok, broken_err]] = counts;
    assert!(valid_err * 20 < valid_ok, "valid mode: {counts:?}");
    assert!(
        broken_ok * 10 > broken_err && broken_err * 10 > broken_ok,
        "{counts:?}"
    );
}
