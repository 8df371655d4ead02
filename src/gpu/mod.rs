//! The GPU backend: one [`Gpu`] holds a wgpu device and the compiled pipelines.
//!
//! Work reaches the device as a [`Program`]: layers lower themselves into a program builder
//! (through [`Lowering`]) by calling the kernel emitters in `kernels/`; the builder checks every buffer and dispatch grid against the device's limits *before*
//! allocating, shares activation buffers between values whose lives do not overlap, and runs
//! everything as one command buffer per batch chunk — inside wgpu error scopes, so validation
//! errors, out-of-memory and device loss come back as [`Error`] values instead of wgpu's
//! default panic.
//!
//! Everything that waits for the device is `async` (a browser's WebGPU only answers through
//! promises): [`Gpu::new_async`], [`Program::run_async`], [`crate::model::GpuModel::run_async`]
//! and the other `*_async` methods hold the logic. With the `native` feature, the blocking
//! methods of the same names without `_async` wrap them with `pollster`.

mod adapter;
// Without `native` the tuner never measures (no clock in a browser), so its timer is unused.
#[cfg_attr(
    not(feature = "native"),
    expect(dead_code, reason = "measuring is native-only")
)]
mod autotune;
mod kernel;
pub(crate) mod kernels;
mod lower;
mod oneshot;
mod pipeline_cache;
mod program;
mod scopes;
mod single_op;
mod timestamps;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[cfg(feature = "native")]
pub use adapter::list_adapters;
pub use adapter::{list_adapters_async, AdapterSummary};
pub use kernels::ConvVariant;
use kernels::Kernel;
pub use lower::Lowering;
pub(crate) use lower::WeightCache;
pub use pipeline_cache::PipelineCacheStatus;
pub(crate) use program::Weight;
pub use program::{Memory, Program, StepTime};
pub(crate) use program::{ProgramBuilder, Value};
use scopes::Scopes;
pub use timestamps::DeviceTiming;

use crate::error::{Error, Result};

/// How a [`Gpu`] is opened.
#[derive(Debug, Clone)]
pub struct GpuOptions {
    /// Device limits to request. `None` asks for everything the adapter offers. Tighter limits
    /// make wgcnn behave as it would on a smaller GPU (tests use this to exercise limit errors
    /// and dispatch splitting on software adapters, which report huge limits).
    pub limits: Option<wgpu::Limits>,
    /// How long to wait for one op to finish on the device before giving up. Native only: in
    /// a browser, wgcnn waits on the browser's promises, which have no timeout.
    pub timeout: Duration,
    /// Measure the Conv2D kernel variants on first use of each shape and keep the fastest
    /// (otherwise: [`crate::gpu::ConvVariant::choose`]). Measuring needs a clock and blocking
    /// waits: without the `native` feature this is ignored, as if it were `false`.
    pub autotune: bool,
    /// Where autotuning choices persist across runs (`None`: this process only). Defaults to
    /// `$WGCNN_CACHE_DIR/autotune.json`, else `wgcnn/autotune.json` in the platform's cache
    /// directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
    /// `%LOCALAPPDATA%` on Windows).
    pub autotune_cache: Option<std::path::PathBuf>,
    /// The directory where compiled pipelines persist across runs, where the adapter can keep
    /// them (wgpu's pipeline cache, on Vulkan): a file named after the adapter,
    /// `wgpu_pipeline_cache_vulkan_<vendor>_<device>`, which later processes load instead of
    /// compiling every kernel again ([`Gpu::pipeline_cache`] says what was loaded; a damaged
    /// file is ignored and replaced). `None`: this process only. Defaults to the directory of
    /// the default `autotune_cache`.
    pub pipeline_cache_dir: Option<std::path::PathBuf>,
    /// Ask for timestamp queries where the adapter offers them, so that `bench` and the
    /// autotuner can read the device's own time ([`Gpu::device_timing`]). Off, the device is
    /// timed on the host's clock only, as on an adapter without them.
    pub timestamps: bool,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            limits: None,
            timeout: Duration::from_secs(120),
            autotune: true,
            autotune_cache: autotune::default_cache_file(),
            pipeline_cache_dir: autotune::default_cache_dir(),
            timestamps: true,
        }
    }
}

/// A wgpu device ready to run wgcnn's ops (each kernel's pipeline is compiled on first use).
///
/// Cheap to share: ops take `&self` and may be called from several threads.
pub struct Gpu {
    info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    limits: wgpu::Limits,
    /// Only native waits poll the device, with this timeout.
    #[cfg_attr(
        target_arch = "wasm32",
        expect(dead_code, reason = "a browser delivers callbacks itself")
    )]
    timeout: Duration,
    /// Set by wgpu's device-lost callback.
    lost: Arc<Mutex<Option<String>>>,
    /// The first error wgpu reported outside an error scope (none is expected: every operation
    /// runs inside scopes); surfaced by the next op instead of wgpu's default panic.
    uncaptured: Arc<Mutex<Option<String>>>,
    /// Compiled on first use (inside that op's error scopes) and kept: compiling all of them
    /// up front cost lavapipe about half a second at every start.
    pipelines: Mutex<HashMap<Kernel, wgpu::ComputePipeline>>,
    /// What compiled pipelines are also kept in, between processes, where the adapter and the
    /// options allow.
    disk_cache: Option<pipeline_cache::DiskCache>,
    /// Whether the options turned the pipeline cache off (else its absence is the adapter's).
    pipeline_cache_off: bool,
    tuner: autotune::Autotuner,
    timing: DeviceTiming,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.info)
            .finish_non_exhaustive()
    }
}

impl Gpu {
    /// Opens the adapter chosen by wgpu's environment variables (see [`list_adapters_async`])
    /// with everything it offers. Blocking wrapper of [`Gpu::new_async`].
    #[cfg(feature = "native")]
    pub fn new() -> Result<Self> {
        pollster::block_on(Self::new_async())
    }

    /// Opens the adapter chosen by wgpu's environment variables with the given options.
    /// Blocking wrapper of [`Gpu::with_options_async`].
    #[cfg(feature = "native")]
    pub fn with_options(options: GpuOptions) -> Result<Self> {
        pollster::block_on(Self::with_options_async(options))
    }

    /// Opens the adapter chosen by wgpu's environment variables (see [`list_adapters_async`])
    /// with everything it offers.
    pub async fn new_async() -> Result<Self> {
        Self::with_options_async(GpuOptions::default()).await
    }

    /// Opens the adapter chosen by wgpu's environment variables with the given options.
    pub async fn with_options_async(options: GpuOptions) -> Result<Self> {
        let instance = adapter::instance();
        let adapter = adapter::select(&instance).await?;
        let info = adapter.get_info();
        let unsupported = |reason: String| Error::UnsupportedAdapter {
            adapter: info.name.clone(),
            reason,
        };
        let offered = adapter.limits();
        let unmet = adapter::unmet_needs(&adapter.get_downlevel_capabilities(), &offered);
        if !unmet.is_empty() {
            return Err(unsupported(format!(
                "it cannot run wgcnn's kernels ({}); `wgcnn adapters` lists the others \
                 (choose one with WGPU_BACKEND, WGPU_ADAPTER_NAME or WGCNN_ADAPTER_PCI_BUS_ID, \
                 or run on the CPU)",
                unmet.join(", ")
            )));
        }
        let limits = options.limits.unwrap_or_else(|| offered.clone());
        let mut too_high = Vec::new();
        limits.check_limits_with_fail_fn(&offered, false, |name, requested, allowed| {
            too_high.push(format!("{name} {requested} > {allowed}"))
        });
        if !too_high.is_empty() {
            return Err(unsupported(format!(
                "requested limits exceed what it offers: {}",
                too_high.join(", ")
            )));
        }
        let too_low = adapter::unmet_needs(&adapter.get_downlevel_capabilities(), &limits);
        if !too_low.is_empty() {
            return Err(unsupported(format!(
                "requested limits are below what wgcnn's kernels need: {}",
                too_low.join(", ")
            )));
        }
        // Timestamp queries where offered: `bench` and the autotuner time the device's work
        // with them instead of the host's round trip. A pipeline cache where offered, unless
        // turned off. Subgroup operations where offered, for the row reductions' third layout
        // (not in a browser: wgpu 30's WebGPU back end does not pass that feature on, though
        // Chrome offers it).
        let mut wanted = wgpu::Features::empty();
        wanted.set(wgpu::Features::SUBGROUP, cfg!(not(target_arch = "wasm32")));
        wanted.set(wgpu::Features::TIMESTAMP_QUERY, options.timestamps);
        wanted.set(
            wgpu::Features::PIPELINE_CACHE,
            options.pipeline_cache_dir.is_some(),
        );
        let features = adapter.features() & wanted;
        let timing = if features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            DeviceTiming::Timestamps
        } else {
            DeviceTiming::Unavailable
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("wgcnn"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::RequestDevice(e.to_string()))?;

        let lost = Arc::new(Mutex::new(None));
        let lost_slot = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = lost_slot.lock() {
                *slot = Some(format!("{reason:?}: {message}"));
            }
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let uncaptured_slot = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |e| {
            if let Ok(mut slot) = uncaptured_slot.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        }));

        let disk_cache = match &options.pipeline_cache_dir {
            Some(dir) if features.contains(wgpu::Features::PIPELINE_CACHE) => {
                pipeline_cache::DiskCache::open(&device, &info, dir).await
            }
            _ => None,
        };
        let pipelines = Mutex::new(HashMap::new());
        Ok(Self {
            info,
            device,
            queue,
            limits,
            timeout: options.timeout,
            lost,
            uncaptured,
            pipelines,
            disk_cache,
            pipeline_cache_off: options.pipeline_cache_dir.is_none(),
            tuner: autotune::Autotuner::new(
                options.autotune && cfg!(feature = "native"),
                options.autotune_cache,
            ),
            timing,
        })
    }

    /// The process-wide default device ([`Gpu::new`]'s), opened on first use and kept: what
    /// [`crate::Backend::Gpu`] runs on.
    #[cfg(feature = "native")]
    pub fn shared() -> Result<&'static Gpu> {
        static SHARED: std::sync::OnceLock<Gpu> = std::sync::OnceLock::new();
        if let Some(gpu) = SHARED.get() {
            return Ok(gpu);
        }
        let gpu = Gpu::new()?;
        Ok(SHARED.get_or_init(|| gpu))
    }

    /// The adapter this device runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Whether this device can time its own work (timestamp queries), which `bench` and the
    /// autotuner use where they can.
    pub fn device_timing(&self) -> DeviceTiming {
        self.timing
    }

    /// The limits the device was opened with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The optional wgpu features the device was opened with: those of `TIMESTAMP_QUERY`,
    /// `PIPELINE_CACHE` and `SUBGROUP` that the adapter offers and the options ask for.
    pub fn features(&self) -> wgpu::Features {
        self.device.features()
    }

    /// Whether compiled pipelines persist between runs on this device, and how much cached
    /// data it started with (see [`GpuOptions::pipeline_cache_dir`]).
    pub fn pipeline_cache(&self) -> PipelineCacheStatus {
        match &self.disk_cache {
            Some(cache) => cache.status(),
            None if self.pipeline_cache_off => PipelineCacheStatus::Off,
            None => PipelineCacheStatus::Unsupported,
        }
    }

    /// `kernel`'s pipeline, compiled on first use (a cheap handle: wgpu pipelines are shared).
    pub(crate) fn pipeline(&self, kernel: Kernel) -> wgpu::ComputePipeline {
        let mut map = self
            .pipelines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(kernel)
            .or_insert_with(|| {
                let cache = self.disk_cache.as_ref();
                let pipeline = kernels::pipeline(&self.device, kernel, cache.map(|c| c.cache()));
                if let Some(c) = cache {
                    c.compiled();
                }
                pipeline
            })
            .clone()
    }

    /// Compiles every kernel wgcnn has on this device, each in its own error scopes, and
    /// returns each kernel's name with the error its compilation gave (`None`: it compiled).
    /// A model compiles only the kernels it uses; this checks a new platform's shader compiler
    /// (a browser's Tint, a driver) against all of them at once. Kernels that need a feature
    /// the device was not opened with ([`Gpu::features`]) are left out: wgcnn never uses them
    /// there. A kernel that failed is not kept, so a later use reports its error again.
    pub async fn check_kernels_async(&self) -> Vec<(&'static str, Option<String>)> {
        let mut report = Vec::with_capacity(Kernel::ALL.len());
        let features = self.features();
        for &kernel in Kernel::ALL {
            if !features.contains(kernel.def().features) {
                continue;
            }
            let scopes = Scopes::push(&self.device);
            let _ = self.pipeline(kernel);
            let error = match scopes.pop("compiling a kernel").await {
                Ok(()) => None,
                Err(e) => {
                    if let Ok(mut map) = self.pipelines.lock() {
                        map.remove(&kernel);
                    }
                    Some(e.to_string())
                }
            };
            report.push((kernel.def().name, error));
        }
        self.save_pipeline_cache();
        report
    }

    /// Writes the pipelines compiled so far to the pipeline cache's file, if any were compiled
    /// since the last save: what a public operation that compiles does when it is done (once,
    /// not per pipeline: the whole cache is written each time). Never fails; a cache that
    /// cannot be written is logged.
    pub(crate) fn save_pipeline_cache(&self) {
        if let Some(cache) = &self.disk_cache {
            cache.save();
        }
    }

    /// Fails if the device was lost or wgpu reported an error outside our scopes.
    pub(crate) fn check_health(&self, op: &'static str) -> Result<()> {
        if let Some(reason) = self.lost.lock().ok().and_then(|slot| slot.clone()) {
            return Err(Error::DeviceLost { reason });
        }
        match self.uncaptured.lock().ok().and_then(|mut slot| slot.take()) {
            Some(message) => Err(Error::GpuInternal { op, message }),
            None => Ok(()),
        }
    }

    /// Checks a storage buffer of `len` floats against the binding and buffer size limits.
    pub(crate) fn check_storage(&self, op: &'static str, name: &str, len: usize) -> Result<()> {
        let bytes = (len as u64).saturating_mul(4);
        let checks = [
            (
                "max_storage_buffer_binding_size",
                self.limits.max_storage_buffer_binding_size,
            ),
            ("max_buffer_size", self.limits.max_buffer_size),
        ];
        for (limit_name, limit) in checks {
            if bytes > limit {
                return Err(Error::LimitExceeded {
                    op,
                    what: format!("the {name} buffer ({len} floats, {bytes} bytes)"),
                    needed: bytes,
                    limit_name,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// Waits until `submission` has run (up to the device timeout on native).
    pub(crate) async fn wait(
        &self,
        op: &'static str,
        submission: wgpu::SubmissionIndex,
    ) -> Result<()> {
        let (sender, done) = oneshot::channel();
        self.queue.on_submitted_work_done(move || sender.send(()));
        #[cfg(not(target_arch = "wasm32"))]
        self.poll_until(op, submission, &done)?;
        #[cfg(target_arch = "wasm32")]
        let _ = submission;
        done.await.ok_or_else(|| Error::GpuInternal {
            op,
            message: "the queue's work-done callback was dropped".into(),
        })?;
        self.check_health(op)
    }

    /// Waits for `submission`, maps the staging buffer and appends its floats to `outs`: the
    /// first `sizes[0]` to `outs[0]`, the next `sizes[1]` to `outs[1]`, and so on. The one copy
    /// out of the mapping, straight into the caller's vectors (a 100 MB output used to be
    /// copied four times on the host).
    pub(crate) async fn read_back_into(
        &self,
        op: &'static str,
        staging: &wgpu::Buffer,
        sizes: &[usize],
        outs: &mut [Vec<f32>],
        submission: wgpu::SubmissionIndex,
    ) -> Result<()> {
        let bytes: usize = sizes.iter().sum::<usize>() * 4;
        self.map_read(op, staging, bytes as u64, submission).await?;
        let copied = staging
            .get_mapped_range(..bytes as u64)
            .map(|range| {
                let mut rest: &[u8] = &range;
                for (out, &n) in outs.iter_mut().zip(sizes) {
                    let (head, tail) = rest.split_at(n * 4);
                    // A mapping is at least 4-byte aligned in practice; byte by byte if not.
                    match bytemuck::try_cast_slice::<u8, f32>(head) {
                        Ok(floats) => out.extend_from_slice(floats),
                        Err(_) => out.extend(
                            head.chunks_exact(4)
                                .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
                        ),
                    }
                    rest = tail;
                }
            })
            .map_err(|e| Error::GpuInternal {
                op,
                message: format!("reading the readback buffer failed: {e}"),
            });
        staging.unmap();
        copied
    }

    /// Waits for `submission`, maps the first `bytes` of `staging` and copies them out.
    pub(crate) async fn read_bytes(
        &self,
        op: &'static str,
        staging: &wgpu::Buffer,
        bytes: u64,
        submission: wgpu::SubmissionIndex,
    ) -> Result<Vec<u8>> {
        self.map_read(op, staging, bytes, submission).await?;
        let values = staging
            .get_mapped_range(..bytes)
            .map(|range| range.to_vec())
            .map_err(|e| Error::GpuInternal {
                op,
                message: format!("reading the readback buffer failed: {e}"),
            });
        staging.unmap();
        values
    }

    /// Waits for `submission` and maps the first `bytes` of `staging` for reading; the caller
    /// reads the mapping and unmaps it.
    async fn map_read(
        &self,
        op: &'static str,
        staging: &wgpu::Buffer,
        bytes: u64,
        submission: wgpu::SubmissionIndex,
    ) -> Result<()> {
        let (sender, mapped) = oneshot::channel();
        staging
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, move |result| sender.send(result));
        #[cfg(not(target_arch = "wasm32"))]
        self.poll_until(op, submission, &mapped)?;
        #[cfg(target_arch = "wasm32")]
        let _ = submission;
        let mapped = mapped.await.ok_or_else(|| Error::GpuInternal {
            op,
            message: "the readback buffer's map callback was dropped".into(),
        })?;
        if let Err(e) = self.check_health(op) {
            if mapped.is_ok() {
                staging.unmap();
            }
            return Err(e);
        }
        mapped.map_err(|e| Error::GpuInternal {
            op,
            message: format!("mapping the readback buffer failed: {e}"),
        })
    }

    /// Native wgpu runs callbacks only while the device is polled (a browser runs them from
    /// its event loop): blocks until `submission` has run, up to the device timeout, then
    /// until `callback` has been delivered — with several threads sharing the device, another
    /// thread's poll can be the one delivering it.
    #[cfg(not(target_arch = "wasm32"))]
    fn poll_until<T>(
        &self,
        op: &'static str,
        submission: wgpu::SubmissionIndex,
        callback: &oneshot::Receiver<T>,
    ) -> Result<()> {
        let timed_out = || Error::Timeout {
            op,
            seconds: self.timeout.as_secs(),
        };
        match self.device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(self.timeout),
        }) {
            Ok(_) => {}
            Err(wgpu::PollError::Timeout) => return Err(timed_out()),
            Err(e) => {
                self.check_health(op)?;
                return Err(Error::GpuInternal {
                    op,
                    message: e.to_string(),
                });
            }
        }
        let deadline = std::time::Instant::now() + self.timeout;
        while !callback.is_settled() {
            if std::time::Instant::now() > deadline {
                return Err(timed_out());
            }
            // A non-blocking poll only delivers callbacks; its status adds nothing here.
            let _ = self.device.poll(wgpu::PollType::Poll);
            std::thread::yield_now();
        }
        Ok(())
    }
}
