//! File names made from names a model chooses (its output layers' names), for `wgcnn run
//! --output-dir` and the members of the `.npz` archives wgcnn writes.
//!
//! A model file must never decide where wgcnn writes: an output layer named `../x` or
//! `/etc/x` would otherwise put a file outside the directory asked for, and an archive member
//! named so escapes the directory of whoever unzips it. Every name is therefore mapped to a
//! plain file stem (the name without `.npy`):
//!
//! 1. ASCII letters, digits, `_`, `-` and `.` are kept; every other character (`/`, `\`, `:`,
//!    spaces, control and non-ASCII characters) becomes `_`;
//! 2. a stem that is empty or starts with `.` (`..`, `.hidden`) gets `_` in front;
//! 3. a stem whose part before its first `.` is a Windows device name (`CON`, `PRN`, `AUX`,
//!    `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`, in any case) gets `_` after that part;
//! 4. stems are cut to [`MAX_STEM`] bytes;
//! 5. among several names, a stem equal to an earlier one up to ASCII case (as macOS's and
//!    Windows's file systems compare names) gets `_1`, `_2`, … (still within [`MAX_STEM`]).
//!
//! ```
//! use wgcnn::names::{file_stem, unique_file_stems};
//! assert_eq!(file_stem("../x"), "_.._x");
//! assert_eq!(file_stem("con"), "con_");
//! assert_eq!(unique_file_stems(&["probs", "a/b", "a_b", "Probs"]), ["probs", "a_b", "a_b_1", "Probs_1"]);
//! ```

use std::collections::{HashMap, HashSet};

/// The longest stem, in bytes: far below every file system's 255-byte name limit, with room
/// for `.npy` and `.partial`.
pub const MAX_STEM: usize = 100;

/// Windows opens these devices whatever the extension (`con.npy` is the console).
const DEVICES: [&str; 4] = ["con", "prn", "aux", "nul"];

fn is_device(part: &str) -> bool {
    let lower = part.to_ascii_lowercase();
    DEVICES.contains(&lower.as_str())
        || (lower.len() == 4
            && (lower.starts_with("com") || lower.starts_with("lpt"))
            && lower.as_bytes()[3].is_ascii_digit())
}

/// `name` as a safe file stem (rules 1–4 of the [module documentation](self)): it names a
/// plain file inside whatever directory it is joined to, on every OS.
pub fn file_stem(name: &str) -> String {
    let mut stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        stem.insert(0, '_');
    }
    let device_end = stem.find('.').unwrap_or(stem.len());
    if is_device(&stem[..device_end]) {
        stem.insert(device_end, '_');
    }
    // Only ASCII is left, so any byte index is a character boundary.
    stem.truncate(MAX_STEM);
    stem
}

/// Whether `stem` is already safe: [`file_stem`] leaves it as it is.
pub fn is_safe_stem(stem: &str) -> bool {
    file_stem(stem) == stem
}

/// The safe stems of `names`, in order, made unique up to ASCII case (rule 5 of the
/// [module documentation](self)). Linear time, whatever the names: a model may list one
/// output thousands of times.
pub fn unique_file_stems<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    // Stems taken so far, lowercased.
    let mut taken: HashSet<String> = HashSet::with_capacity(names.len());
    // Per lowercased stem, the next suffix to try, so that repeats never rescan `_1`, `_2`, ….
    let mut next: HashMap<String, usize> = HashMap::new();
    names
        .iter()
        .map(|name| {
            let base = file_stem(name.as_ref());
            let key = base.to_ascii_lowercase();
            let stem = if taken.contains(&key) {
                let k = next.entry(key).or_insert(1);
                loop {
                    let suffix = format!("_{k}");
                    *k += 1;
                    let keep = base.len().min(MAX_STEM.saturating_sub(suffix.len()));
                    let candidate = format!("{}{suffix}", &base[..keep]);
                    if !taken.contains(&candidate.to_ascii_lowercase()) {
                        break candidate;
                    }
                }
            } else {
                base
            };
            taken.insert(stem.to_ascii_lowercase());
            stem
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_syntax_becomes_plain_characters() {
        for (name, stem) in [
            ("dense_1", "dense_1"),
            ("../x", "_.._x"),
            ("..", "_.."),
            (".", "_."),
            ("", "_"),
            (".hidden", "_.hidden"),
            ("/tmp/abs", "_tmp_abs"),
            ("a/b", "a_b"),
            ("a\\b", "a_b"),
            ("C:x", "C_x"),
            ("a b\tc\0d", "a_b_c_d"),
            ("crème brûlée", "cr_me_br_l_e"),
            ("名前", "__"),
            ("v1.2-rc_3", "v1.2-rc_3"),
        ] {
            assert_eq!(file_stem(name), stem, "{name:?}");
            assert!(is_safe_stem(stem), "{stem:?}");
        }
    }

    #[test]
    fn windows_device_names_get_a_suffix() {
        for (name, stem) in [
            ("con", "con_"),
            ("CON", "CON_"),
            ("Nul.x", "Nul_.x"),
            ("com1", "com1_"),
            ("LPT9", "LPT9_"),
            ("aux.tar.gz", "aux_.tar.gz"),
            ("console", "console"),
            ("com10", "com10"),
            ("xcon", "xcon"),
        ] {
            assert_eq!(file_stem(name), stem, "{name:?}");
        }
    }

    #[test]
    fn long_names_are_cut_and_stay_unique() {
        let long = "é".repeat(300);
        assert_eq!(file_stem(&long), "_".repeat(MAX_STEM));
        let stems = unique_file_stems(&[&long, &long]);
        assert_eq!(stems[0].len(), MAX_STEM);
        assert_eq!(stems[1], format!("{}_1", "_".repeat(MAX_STEM - 2)));
    }

    #[test]
    fn stems_are_unique_up_to_case() {
        let names = ["out", "OUT", "out_1", "out", "a/b", "a_b", "a:b"];
        let stems = unique_file_stems(&names);
        assert_eq!(
            stems,
            ["out", "OUT_1", "out_1_1", "out_2", "a_b", "a_b_1", "a_b_2"]
        );
        let lower: HashSet<String> = stems.iter().map(|s| s.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), names.len());
    }

    #[test]
    fn many_repeats_take_linear_time() {
        let names = vec!["dense"; 100_000];
        let started = std::time::Instant::now();
        let stems = unique_file_stems(&names);
        assert_eq!(stems[99_999], "dense_99999");
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }
}
