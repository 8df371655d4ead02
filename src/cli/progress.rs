//! Progress on stderr for long work: bars and spinners on a terminal, nothing on a pipe or in
//! a file (indicatif hides its output when stderr is not a terminal), so scripts and logs see
//! only results.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps, labelled `what`. Finish it with `finish_and_clear`.
pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len} {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar.set_message(what.to_string());
    bar
}

/// A spinner saying what is going on while `work` runs (e.g. compiling and autotuning, which
/// reports no steps), cleared when it returns.
pub(crate) fn spinner<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        spinner.set_style(style);
    }
    spinner.set_message(what.to_string());
    spinner.enable_steady_tick(Duration::from_millis(120));
    let result = work();
    spinner.finish_and_clear();
    result
}
