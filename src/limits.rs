//! How large a tensor the CPU backends may allocate. Without a bound, a few bytes of model
//! config (`ZeroPadding2D(100000)`, `UpSampling2D(size=50000)`) ask the allocator for hundreds of
//! gigabytes and the process aborts; with one, they are an error before anything is allocated,
//! as on the GPU.
//!
//! Outside the fast CPU backend because the reference backend, which every build has, is bound
//! by it too. Published as `wgcnn::cpu::{memory_limit, check_tensor, MEMORY_LIMIT_ENV}`.

use crate::error::{Error, Result};

/// The environment variable that sets the limit, in bytes.
pub const MEMORY_LIMIT_ENV: &str = "WGCNN_CPU_MEMORY_LIMIT";

/// The largest tensor the CPU backends allocate, in bytes, and where that number comes from:
/// `WGCNN_CPU_MEMORY_LIMIT` when it is set to a number, otherwise the machine's physical
/// memory (no single tensor larger than that can be computed anyway), which only a `native`
/// build on Unix asks the OS for; in a wasm32 build (a browser), 1 GiB.
pub fn memory_limit() -> (u64, &'static str) {
    if let Some(bytes) = std::env::var(MEMORY_LIMIT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return (bytes, "WGCNN_CPU_MEMORY_LIMIT");
    }
    if cfg!(target_arch = "wasm32") {
        // A failed allocation aborts a wasm module, and the page with it.
        return (WASM32_TENSOR_LIMIT, "a quarter of wasm32's 4 GiB memory");
    }
    match physical_memory() {
        Some(bytes) => (bytes, "the physical memory"),
        None => (u64::MAX, "no limit known on this platform"),
    }
}

/// The largest tensor in a wasm32 build (a browser): its whole memory is at most 4 GiB, which
/// the model's weights and the other tensors share.
const WASM32_TENSOR_LIMIT: u64 = 1 << 30;

#[cfg(all(unix, feature = "native"))]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration values.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let pages = u64::try_from(pages).ok()?;
    let page_size = u64::try_from(page_size).ok()?;
    pages.checked_mul(page_size)
}

#[cfg(not(all(unix, feature = "native")))]
fn physical_memory() -> Option<u64> {
    None
}

/// Checks that a float32 tensor of `elements` values (`None`: the count overflowed) fits the
/// limit; `what` names it in the error.
pub fn check_tensor(elements: Option<usize>, what: impl FnOnce() -> String) -> Result<()> {
    let (limit, limit_source) = memory_limit();
    let needed = elements.and_then(|n| (n as u64).checked_mul(4));
    match needed {
        Some(bytes) if bytes <= limit => Ok(()),
        _ => Err(Error::MemoryLimit {
            what: what(),
            needed: needed.unwrap_or(u64::MAX),
            limit,
            limit_source,
        }),
    }
}
