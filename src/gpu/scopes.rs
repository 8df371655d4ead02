//! wgpu's error scopes around every GPU operation, so that validation errors, out-of-memory
//! and internal errors come back as [`Error`] values instead of wgpu's default panic.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

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

    /// Pops the scopes (innermost first). wgpu pops them at once; what they caught comes
    /// through the returned [`ScopeCheck`], which turns the first error into an [`Error`].
    pub(super) fn pop(self, op: &'static str) -> ScopeCheck {
        let validation = self.validation.pop();
        let oom = self.oom.pop();
        let internal = self.internal.pop();
        ScopeCheck(Box::pin(async move {
            let validation = validation.await;
            let oom = oom.await;
            let internal = internal.await;
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
        }))
    }
}

/// A future that is `Send` wherever wgpu's futures are (everywhere but wasm32, where the
/// browser's promises are not).
trait CheckFuture: Future<Output = Result<()>> + wgpu::WasmNotSend {}

impl<F: Future<Output = Result<()>> + wgpu::WasmNotSend> CheckFuture for F {}

/// The outcome of popped error scopes: a future, because a browser's WebGPU reports errors
/// asynchronously. Native wgpu records them as they happen, so there it is ready at once.
pub(super) struct ScopeCheck(Pin<Box<dyn CheckFuture>>);

impl ScopeCheck {
    /// The outcome if it is known without waiting (always, on native wgpu), else the check
    /// itself, to await later: what code that cannot await (weight uploads during lowering)
    /// uses.
    pub(super) fn now(mut self) -> std::result::Result<Result<()>, ScopeCheck> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.0.as_mut().poll(&mut cx) {
            Poll::Ready(outcome) => Ok(outcome),
            Poll::Pending => Err(self),
        }
    }
}

impl Future for ScopeCheck {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.0.as_mut().poll(cx)
    }
}
