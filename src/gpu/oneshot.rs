//! A one-value channel whose receiving end is a future: how wgpu's callbacks (`map_async`,
//! `on_submitted_work_done`) become something `async` code can await. A browser calls them from
//! its event loop; native wgpu from whichever thread polls the device. A few lines of std
//! instead of a dependency.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    /// The sender is gone: no value will come if there is none yet.
    closed: bool,
    waker: Option<Waker>,
}

type Shared<T> = Arc<Mutex<Slot<T>>>;

/// The slot's lock. Nothing panics while holding it, and a slot is valid in every state, so a
/// poisoned lock is used as is.
fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, Slot<T>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the callback puts its value; dropping it unsent (wgpu dropped the callback) resolves
/// the receiver to `None`.
pub(super) struct Sender<T>(Shared<T>);

/// Resolves to the value sent, or `None` if the sender was dropped without sending.
pub(super) struct Receiver<T>(Shared<T>);

/// A connected sender and receiver.
pub(super) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Slot {
        value: None,
        closed: false,
        waker: None,
    }));
    (Sender(Arc::clone(&shared)), Receiver(shared))
}

impl<T> Sender<T> {
    /// Delivers `value` and wakes the receiver's task.
    pub(super) fn send(self, value: T) {
        lock(&self.0).value = Some(value);
        // Dropping `self` wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.closed = true;
            slot.waker.take()
        };
        // Woken outside the lock: the receiver's task may run on this thread at once.
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Whether awaiting would finish at once (a value arrived, or the sender is gone).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn is_settled(&self) -> bool {
        let slot = lock(&self.0);
        slot.value.is_some() || slot.closed
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = lock(&self.0);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
