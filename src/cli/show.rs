//! What `wgcnn run` prints when no `--output` is given: per output its shape, then the top
//! classes of the first examples for a classifier (rows of probabilities), else statistics
//! and the first values.

use wgcnn::Tensor;

/// Outputs printed at most; the rest are counted.
const MAX_OUTPUTS: usize = 20;
/// Examples shown per output.
const MAX_EXAMPLES: usize = 4;
/// Classes shown per example.
const TOP_K: usize = 5;

/// The outputs `ys` named `names`, as text.
pub(crate) fn outputs(names: &[&str], ys: &[Tensor]) -> String {
    let mut text = String::new();
    for (name, y) in names.iter().zip(ys).take(MAX_OUTPUTS) {
        text.push_str(&format!("output {name}: shape {:?}\n", y.shape()));
        match classifier_rows(y) {
            Some(classes) => {
                for (n, row) in y.data().chunks(classes).take(MAX_EXAMPLES).enumerate() {
                    text.push_str(&format!(
                        "  example {n}: top {}: {}\n",
                        TOP_K.min(classes),
                        top(row)
                    ));
                }
            }
            None => text.push_str(&format!("  {}\n", stats(y.data()))),
        }
        let examples = y.shape().first().copied().unwrap_or(0);
        if examples > MAX_EXAMPLES && classifier_rows(y).is_some() {
            text.push_str(&format!("  ({} more examples)\n", examples - MAX_EXAMPLES));
        }
    }
    if ys.len() > MAX_OUTPUTS {
        text.push_str(&format!(
            "... and {} more outputs (write them all with --output-dir DIR)\n",
            ys.len() - MAX_OUTPUTS
        ));
    }
    text
}

/// One input file's outputs `ys` (each `(n, ..)`) as `run --input-dir` prints them: a line
/// per example with the top classes for a one-output classifier (`FILE: top 5: ...`, or
/// `FILE[k]: ...` for a file holding a batch; `single`: it held one example), else the file's
/// name and [`outputs`] indented.
pub(crate) fn file_outputs(label: &str, single: bool, names: &[&str], ys: &[Tensor]) -> String {
    if let [y] = ys {
        if let Some(classes) = classifier_rows(y) {
            let mut text = String::new();
            for (n, row) in y.data().chunks(classes).enumerate() {
                let which = if single {
                    label.to_string()
                } else {
                    format!("{label}[{n}]")
                };
                text.push_str(&format!(
                    "{which}: top {}: {}\n",
                    TOP_K.min(classes),
                    top(row)
                ));
            }
            return text;
        }
    }
    let mut text = format!("{label}:\n");
    for line in outputs(names, ys).lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

/// The number of classes when `y` is `(batch, classes)` rows of probabilities (softmax:
/// each row finite, in [0, 1], summing to 1), else `None`.
fn classifier_rows(y: &Tensor) -> Option<usize> {
    let &[_, classes] = y.shape() else {
        return None;
    };
    if classes < 2 {
        return None;
    }
    y.data()
        .chunks(classes)
        .all(|row| {
            row.iter().all(|v| (0.0..=1.0).contains(v))
                && (row.iter().map(|&v| f64::from(v)).sum::<f64>() - 1.0).abs() < 1e-3
        })
        .then_some(classes)
}

/// `class (probability)` for the largest entries of `row`, largest first (ties: lower class).
fn top(row: &[f32]) -> String {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
    order
        .iter()
        .take(TOP_K)
        .map(|&c| format!("{c} ({:.4})", row[c]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Min, max, mean and standard deviation of the finite values, the non-finite ones counted,
/// and the first few values.
fn stats(data: &[f32]) -> String {
    let finite: Vec<f64> = data
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| f64::from(v))
        .collect();
    let nan = data.iter().filter(|v| v.is_nan()).count();
    let inf = data.iter().filter(|v| v.is_infinite()).count();
    let mut parts = Vec::new();
    if !finite.is_empty() {
        let n = finite.len() as f64;
        let mean = finite.iter().sum::<f64>() / n;
        let var = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        parts.push(format!(
            "min {min:.6}, max {max:.6}, mean {mean:.6}, std {:.6}",
            var.sqrt()
        ));
    }
    if nan > 0 {
        parts.push(format!("{nan} NaN"));
    }
    if inf > 0 {
        parts.push(format!("{inf} infinite"));
    }
    let first: Vec<String> = data.iter().take(8).map(|v| format!("{v:.6}")).collect();
    parts.push(format!(
        "first values [{}{}]",
        first.join(", "),
        if data.len() > 8 { ", ..." } else { "" }
    ));
    parts.join("; ")
}
