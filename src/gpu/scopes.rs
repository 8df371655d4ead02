//! wgpu's error scopes around every GPU operation, so that validation errors, out-of-memory
//! and internal errors come back as [`Error`] values instead of wgpu's default panic.

use crate::error::{Error, Result};

/// The three wgpu error scopes every GPU operation runs inside.
pub(super) struct Scopes {
    internal: wgpu::ErrorScopeGuard,
    oom: wgpu::ErrorScopeGuard,
    validation: wgpu::ErrorScopeGuard,
}

impl Scopes {
    pub(super) fn push(device: &wgpu::Device) -> Self {
        Self {
            internal: device.push_error_scope(wgpu::ErrorFilter::Internal),
            oom: device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            validation: device.push_error_scope(wgpu::ErrorFilter::Validation),
        }
    }

    /// Pops the scopes (innermost first) and turns the first error caught into an [`Error`].
    pub(super) fn pop(self, op: &'static str) -> Result<()> {
        let validation = pollster::block_on(self.validation.pop());
        let oom = pollster::block_on(self.oom.pop());
        let internal = pollster::block_on(self.internal.pop());
        match validation.or(oom).or(internal) {
            None => Ok(()),
            Some(wgpu::Error::OutOfMemory { .. }) => Err(Error::GpuOutOfMemory { op }),
            Some(wgpu::Error::Validation { description, .. }) => Err(Error::GpuValidation {
                op,
                message: description,
            }),
            Some(wgpu::Error::Internal { description, .. }) => Err(Error::GpuInternal {
                op,
                message: description,
            }),
        }
    }
}
