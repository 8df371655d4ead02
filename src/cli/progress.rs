//! Progress on stderr for long work: bars and spinners on a terminal, nothing on a pipe or in
//! a file (indicatif hides its output when stderr is not a terminal), so scripts and logs see
//! only results.

use std::time::{Duration, Instant};

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

/// A spinner saying what is going on while `work` runs (e.g. the forward pass, which reports no
/// steps), cleared when it returns.
pub(crate) fn spinner<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let spinner = start_spinner(what);
    let result = work();
    spinner.finish_and_clear();
    result
}

/// A step shorter than this leaves no line on a terminal: it is over before anyone waits.
const WORTH_A_LINE: Duration = Duration::from_millis(500);

/// One step of a longer job (compiling for the GPU: autotuning, then compiling pipelines):
/// a spinner while `work` runs, then on a terminal a line saying how long the step took if it
/// took [`WORTH_A_LINE`] or more, so that the steps' times stay on screen side by side. Each
/// step's time is also logged (`RUST_LOG=wgcnn=info`), in a pipe too.
pub(crate) fn step<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let spinner = start_spinner(what);
    let started = Instant::now();
    let result = work();
    let took = started.elapsed();
    log::info!("{what}: {:.2} s", took.as_secs_f64());
    if took >= WORTH_A_LINE {
        // Printed above the spinner, and only where the spinner is shown.
        spinner.println(format!("{what}: {:.1} s", took.as_secs_f64()));
    }
    spinner.finish_and_clear();
    result
}

fn start_spinner(what: &str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        spinner.set_style(style);
    }
    spinner.set_message(what.to_string());
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}
