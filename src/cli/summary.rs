//! `wgcnn summary`: Keras's model.summary() table (at Keras's width), its JSON, or the
//! derivation of each layer's numbers.

use std::process::ExitCode;

use wgcnn::Model;

use crate::SummaryArgs;

/// `wgcnn summary`.
pub(crate) fn main(args: SummaryArgs) -> wgcnn::Result<ExitCode> {
    let summary = Model::load(&args.model)?.summary();
    if args.json {
        println!("{}", summary.to_json());
    } else if args.explain {
        print!("{}", summary.explained());
    } else {
        let width = args
            .line_length
            .map_or_else(|| summary.line_length_for(columns()), usize::from);
        print!("{}", summary.table_with_line_length(width));
    }
    Ok(ExitCode::SUCCESS)
}

/// The terminal's columns as Python's `shutil.get_terminal_size` finds them (Keras sizes its
/// summary from them, see `Summary::line_length_for`): $COLUMNS, else the terminal on stdout,
/// else 80.
fn columns() -> usize {
    known_columns().unwrap_or(80)
}

/// $COLUMNS, else the width of the terminal on stdout; `None` when neither says.
pub(crate) fn known_columns() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or_else(terminal_columns)
}

/// The width of the terminal on stdout, if stdout is one.
fn terminal_columns() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .filter(|&w| w > 0)
}
