//! What the process sets up before any work: the default SIGPIPE action, glibc's malloc
//! thresholds and the logger.

/// Restores SIGPIPE's default action and keeps freed memory for the next layer. Call first
/// thing in `main`, before any other thread exists (both calls require it).
pub(crate) fn setup() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`wgcnn summary m.keras | head`)
    // would panic; restore the default: the process ends quietly, as command-line tools do.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    keep_freed_memory();
}

/// The CPU backends allocate every layer's output afresh. glibc serves blocks over its mmap
/// threshold with new mappings and returns them on free, so each layer would fault its output
/// in page by page again: that doubled the time of ResNet50's element-wise layers here. Serve
/// blocks up to 32 MiB (glibc's maximum threshold) from the heap and keep freed memory for
/// the next layer.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Logs go to stderr through `env_logger`: warnings by default, `RUST_LOG` adds to that
/// (`RUST_LOG=wgcnn=debug` shows the autotuner's choices; `RUST_LOG=wgpu_hal=info` wgpu's
/// adapter details).
pub(crate) fn init_logging() {
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Warn)
        .parse_env("RUST_LOG")
        .format_timestamp(None)
        .init();
}
