//! The `wgcnn` command line's work beyond parsing arguments (which `main.rs` does with clap):
//! each subcommand that needs more than a few lines has its file here.

pub(crate) mod bench;
pub(crate) mod demo;
pub(crate) mod progress;
pub(crate) mod run;
