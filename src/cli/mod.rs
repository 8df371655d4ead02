//! The `wgcnn` command line's work; `main.rs` holds only the arguments (clap) and the
//! dispatch. Each subcommand has its file here with a function that takes its arguments and
//! returns the exit code (`run::main`, `single_op::conv2d`, ...); the rest serves several.

pub(crate) mod adapters;
pub(crate) mod backend;
pub(crate) mod bench;
pub(crate) mod demo;
pub(crate) mod input_dir;
pub(crate) mod parse;
pub(crate) mod process;
pub(crate) mod progress;
pub(crate) mod run;
pub(crate) mod show;
pub(crate) mod single_op;
pub(crate) mod summary;
