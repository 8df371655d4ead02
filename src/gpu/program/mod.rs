//! A program for the device: the dispatches a model (or a single op) needs, recorded once and
//! run as one command buffer per batch chunk.
//!
//! Three steps, a file each:
//! - `record.rs`: layers lower themselves into a [`ProgramBuilder`] through
//!   [`super::Lowering`]: they ask for values (activation tensors, per example), upload
//!   weights, and record dispatches whose uniform parameters are a function of the chunk's batch
//!   size;
//! - `plan.rs`: [`ProgramBuilder::build_async`] decides how many examples a chunk holds (the
//!   device's binding, buffer and grid limits), gives each value a device buffer — reusing
//!   buffers whose values are dead (liveness over the step list) — and creates every bind group
//!   once, so that running allocates nothing;
//! - `run.rs`: a [`Program`] writes inputs, encodes every dispatch of a chunk in one compute
//!   pass, reads the outputs back, and profiles per step.

mod plan;
mod record;
mod run;

use std::sync::Arc;

pub(crate) use record::ProgramBuilder;
pub use run::{Memory, Program, StepTime};

use crate::error::Result;

/// A tensor on the device, per example: a handle into a [`ProgramBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value(usize);

/// An uploaded weight buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weight(usize);

/// What one binding of a dispatch is (binding 0 is always the uniform parameters).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Binding {
    /// A value the dispatch reads.
    Read(Value),
    /// A value the dispatch writes.
    Write(Value),
    /// A weight buffer.
    Weight(Weight),
}

/// A dispatch's uniform bytes and workgroup grid for one chunk.
pub(crate) struct Dispatch {
    pub bytes: Vec<u8>,
    pub grid: [u32; 2],
}

/// Computes a dispatch for a chunk of `batch` examples.
pub(crate) type ParamFn = Arc<dyn Fn(usize) -> Result<Dispatch> + Send + Sync>;
