//! The GPU backend: one [`Gpu`] holds a wgpu device and the compiled pipelines, and runs ops.
//!
//! Every op follows the same explicit steps (`Gpu::run`): plan the output shape with the
//! layer spec, check every buffer and the dispatch grid against the device's limits *before*
//! allocating, upload, dispatch, and read back through a staging buffer — all inside wgpu error
//! scopes, so validation errors, out-of-memory and device loss come back as [`Error`] values
//! instead of wgpu's default panic.

mod adapter;
mod autotune;
mod conv2d;
mod kernels;
mod max_pool2d;
mod model;
mod scopes;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use wgpu::util::DeviceExt;

pub use adapter::{list_adapters, AdapterSummary};
pub use conv2d::ConvVariant;
pub use kernels::{Shader, SHADERS};
pub use model::GpuModel;

use kernels::{pipeline, Kernel, WindowDispatch, WindowParams, WORKGROUP_SIZE};
use scopes::Scopes;

use crate::error::{Error, Result};
use crate::shape::Window2d;

/// How a [`Gpu`] is opened.
#[derive(Debug, Clone)]
pub struct GpuOptions {
    /// Device limits to request. `None` asks for everything the adapter offers. Tighter limits
    /// make wgcnn behave as it would on a smaller GPU (tests use this to exercise limit errors
    /// and dispatch splitting on software adapters, which report huge limits).
    pub limits: Option<wgpu::Limits>,
    /// How long to wait for one op to finish on the device before giving up.
    pub timeout: Duration,
    /// Measure the Conv2D kernel variants on first use of each shape and keep the fastest
    /// (otherwise: [`crate::gpu::ConvVariant::choose`]).
    pub autotune: bool,
    /// Where autotuning choices persist across runs (`None`: this process only). Defaults to
    /// `$WGCNN_CACHE_DIR/autotune.json`, `$XDG_CACHE_HOME/wgcnn/autotune.json` or
    /// `~/.cache/wgcnn/autotune.json`.
    pub autotune_cache: Option<std::path::PathBuf>,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            limits: None,
            timeout: Duration::from_secs(120),
            autotune: true,
            autotune_cache: autotune::default_cache_file(),
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
    timeout: Duration,
    /// Set by wgpu's device-lost callback.
    lost: Arc<Mutex<Option<String>>>,
    /// The first error wgpu reported outside an error scope (none is expected: every operation
    /// runs inside scopes); surfaced by the next op instead of wgpu's default panic.
    uncaptured: Arc<Mutex<Option<String>>>,
    /// One per [`Kernel`], compiled on first use (inside that op's error scopes) and kept:
    /// compiling all of them up front cost lavapipe about half a second at every start.
    pipelines: Vec<OnceLock<wgpu::ComputePipeline>>,
    tuner: autotune::Autotuner,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.info)
            .finish_non_exhaustive()
    }
}

/// A storage buffer's contents for [`Gpu::run`], named for error messages.
struct Input<'a> {
    name: &'static str,
    data: &'a [f32],
}

impl Gpu {
    /// Opens the adapter chosen by wgpu's environment variables (see [`list_adapters`]) with
    /// everything it offers.
    pub fn new() -> Result<Self> {
        Self::with_options(GpuOptions::default())
    }

    /// Opens the adapter chosen by wgpu's environment variables with the given options.
    pub fn with_options(options: GpuOptions) -> Result<Self> {
        let instance = adapter::instance();
        let adapter = adapter::select(&instance)?;
        let info = adapter.get_info();
        let unsupported = |reason: String| Error::UnsupportedAdapter {
            adapter: info.name.clone(),
            reason,
        };
        if !adapter
            .get_downlevel_capabilities()
            .flags
            .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
        {
            return Err(unsupported("it cannot run compute shaders".into()));
        }
        let offered = adapter.limits();
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
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wgcnn"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
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

        let pipelines = SHADERS.iter().map(|_| OnceLock::new()).collect();
        Ok(Self {
            info,
            device,
            queue,
            limits,
            timeout: options.timeout,
            lost,
            uncaptured,
            pipelines,
            tuner: autotune::Autotuner::new(options.autotune, options.autotune_cache),
        })
    }

    /// The adapter this device runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The limits the device was opened with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    fn pipeline(&self, kernel: Kernel) -> &wgpu::ComputePipeline {
        self.pipelines[kernel as usize]
            .get_or_init(|| pipeline(&self.device, &SHADERS[kernel as usize]))
    }

    /// The bind group every kernel uses: binding 0 the uniform parameters, then the read-only
    /// inputs in order, then the output.
    fn bind_group(
        &self,
        kernel: Kernel,
        uniform: &wgpu::Buffer,
        inputs: &[&wgpu::Buffer],
        output: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = std::iter::once(uniform)
            .chain(inputs.iter().copied())
            .chain(std::iter::once(output))
            .enumerate()
            .map(|(i, buffer)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(SHADERS[kernel as usize].name),
            layout: &self.pipeline(kernel).get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// Fails if the device was lost or wgpu reported an error outside our scopes.
    fn check_health(&self, op: &'static str) -> Result<()> {
        if let Some(reason) = self.lost.lock().ok().and_then(|slot| slot.clone()) {
            return Err(Error::DeviceLost { reason });
        }
        match self.uncaptured.lock().ok().and_then(|mut slot| slot.take()) {
            Some(message) => Err(Error::GpuInternal { op, message }),
            None => Ok(()),
        }
    }

    /// Splits `total` one-element-per-invocation work items into a 2-D grid of workgroups
    /// `(x, y)` that respects `max_compute_workgroups_per_dimension`: the shaders fold it back
    /// into a flat index as `(y·x_count + x)·64 + lane`, and pass `x_count` as `groups_x`.
    fn grid(&self, op: &'static str, total: usize) -> Result<[u32; 2]> {
        let limit = |what: String, needed: u64, limit_name, limit| Error::LimitExceeded {
            op,
            what,
            needed,
            limit_name,
            limit,
        };
        let total = total as u64;
        if total > u64::from(u32::MAX) {
            return Err(limit(
                "output elements (32-bit shader indexing)".into(),
                total,
                "u32::MAX",
                u64::from(u32::MAX),
            ));
        }
        let groups = total.div_ceil(WORKGROUP_SIZE);
        let per_dim = u64::from(self.limits.max_compute_workgroups_per_dimension);
        if groups <= per_dim {
            return Ok([groups as u32, 1]);
        }
        let rows = groups.div_ceil(per_dim);
        if rows > per_dim {
            return Err(limit(
                format!("a {per_dim}×{rows} workgroup grid"),
                rows,
                "max_compute_workgroups_per_dimension",
                per_dim,
            ));
        }
        Ok([per_dim as u32, rows as u32])
    }

    /// Converts a planned window op into shader parameters and a grid, after checking that it
    /// fits the device: the window reach (`check_window`) and the output count (`grid`) here,
    /// buffer sizes in `run` — all before anything is allocated.
    fn window_dispatch(
        &self,
        op: &'static str,
        g: &Window2d,
        kernel: Kernel,
    ) -> Result<WindowDispatch> {
        self.check_window(op, g)?;
        let total = match kernel {
            // One invocation per BLOCK_ROWS output positions × 4 filters.
            Kernel::Conv2dBlocked => {
                let [n, h, w, f] = g.output;
                (n * h * w).div_ceil(conv2d::BLOCK_ROWS) * (f / 4)
            }
            // One invocation per WIDE_ROWS output positions × WIDE_FILTERS filters.
            Kernel::Conv2dWide
            | Kernel::Conv2dWideIn1
            | Kernel::Conv2dWideOut1
            | Kernel::Conv2dWideIn1Out1 => {
                let [n, h, w, f] = g.output;
                (n * h * w).div_ceil(conv2d::WIDE_ROWS) * f.div_ceil(conv2d::WIDE_FILTERS)
            }
            // 64 invocations per tile of 32 positions × 32 filters.
            Kernel::Conv2dTiled => {
                let [n, h, w, f] = g.output;
                (n * h * w).div_ceil(32) * f.div_ceil(32) * WORKGROUP_SIZE as usize
            }
            _ => g.output.iter().product::<usize>(),
        };
        let grid = self.grid(op, total)?;
        // Exact whenever the op proceeds: extents are bounded by the buffer-size checks in
        // `run`, window reach by `check_window`, the output count by `grid`.
        let u = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let params = WindowParams {
            batch: u(g.input[0]),
            in_h: u(g.input[1]),
            in_w: u(g.input[2]),
            in_c: u(g.input[3]),
            out_h: u(g.output[1]),
            out_w: u(g.output[2]),
            out_c: u(g.output[3]),
            win_h: u(g.window[0]),
            win_w: u(g.window[1]),
            stride_h: u(g.strides[0]),
            stride_w: u(g.strides[1]),
            dil_h: u(g.dilation[0]),
            dil_w: u(g.dilation[1]),
            pad_top: u(g.rows.pad_before),
            pad_left: u(g.cols.pad_before),
            has_bias: 0,
            activation: 0,
            total: u(total),
            groups_x: grid[0],
            _pad: 0,
        };
        Ok(WindowDispatch {
            params,
            total,
            grid,
        })
    }

    /// The shaders index in 32 bits: the furthest padded coordinate a window reaches,
    /// `(out−1)·stride + (window−1)·dilation`, must fit, so that no index wraps around.
    fn check_window(&self, op: &'static str, g: &Window2d) -> Result<()> {
        for axis in 0..2 {
            let out = g.output[axis + 1] as u128;
            let reach = (out - 1) * g.strides[axis] as u128
                + (g.window[axis] as u128 - 1) * g.dilation[axis] as u128;
            if reach > u128::from(u32::MAX) {
                return Err(Error::LimitExceeded {
                    op,
                    what: format!("the padded window extent along axis {}", axis + 1),
                    needed: u64::try_from(reach).unwrap_or(u64::MAX),
                    limit_name: "u32::MAX (32-bit shader indexing)",
                    limit: u64::from(u32::MAX),
                });
            }
        }
        Ok(())
    }

    /// Checks a storage buffer of `len` floats against the binding and buffer size limits.
    fn check_storage(&self, op: &'static str, name: &str, len: usize) -> Result<()> {
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

    /// Runs `kernel` once: binding 0 is `params` (uniform), then `inputs` in order (read-only
    /// storage), then an output of `output_len` floats, which is read back and returned.
    fn run(
        &self,
        op: &'static str,
        kernel: Kernel,
        params: &[u8],
        inputs: &[Input<'_>],
        output_len: usize,
        grid: [u32; 2],
    ) -> Result<Vec<f32>> {
        self.check_health(op)?;
        for input in inputs {
            self.check_storage(op, input.name, input.data.len())?;
        }
        self.check_storage(op, "output", output_len)?;
        let out_bytes = output_len as u64 * 4;

        let scopes = Scopes::push(&self.device);
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: params,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let storage: Vec<wgpu::Buffer> = inputs
            .iter()
            .map(|input| {
                self.device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(input.name),
                        contents: bytemuck::cast_slice(input.data),
                        usage: wgpu::BufferUsages::STORAGE,
                    })
            })
            .collect();
        let output = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("output"),
            size: out_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: out_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let storage_refs: Vec<&wgpu::Buffer> = storage.iter().collect();
        let bind_group = self.bind_group(kernel, &uniform, &storage_refs, &output);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(op) });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(op),
                timestamp_writes: None,
            });
            pass.set_pipeline(self.pipeline(kernel));
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(grid[0], grid[1], 1);
        }
        encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, out_bytes);
        let submission = self.queue.submit([encoder.finish()]);
        scopes.pop(op)?;
        self.read_back(op, &staging, out_bytes, submission)
    }

    /// Waits until `submission` has run, up to the device timeout.
    fn wait(&self, op: &'static str, submission: wgpu::SubmissionIndex) -> Result<()> {
        match self.device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(self.timeout),
        }) {
            Ok(_) => self.check_health(op),
            Err(wgpu::PollError::Timeout) => Err(Error::Timeout {
                op,
                seconds: self.timeout.as_secs(),
            }),
            Err(e) => {
                self.check_health(op)?;
                Err(Error::GpuInternal {
                    op,
                    message: e.to_string(),
                })
            }
        }
    }

    /// Waits for `submission`, maps the first `bytes` of `staging` and copies them out as floats.
    fn read_back(
        &self,
        op: &'static str,
        staging: &wgpu::Buffer,
        bytes: u64,
        submission: wgpu::SubmissionIndex,
    ) -> Result<Vec<f32>> {
        let timed_out = || Error::Timeout {
            op,
            seconds: self.timeout.as_secs(),
        };
        let (sender, receiver) = mpsc::channel();
        staging
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, move |result| {
                // The receiver outlives the poll below; a send error cannot be acted on anyway.
                let _ = sender.send(result);
            });
        self.wait(op, submission)?;
        // The submission is done, but the map callback may still be on its way: with several
        // threads sharing the device, another thread's poll can be the one delivering it.
        let deadline = Instant::now() + self.timeout;
        let mapped = loop {
            match receiver.try_recv() {
                Ok(result) => break result,
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(Error::GpuInternal {
                        op,
                        message: "the readback buffer's map callback was dropped".into(),
                    })
                }
                Err(mpsc::TryRecvError::Empty) if Instant::now() > deadline => {
                    return Err(timed_out())
                }
                Err(mpsc::TryRecvError::Empty) => {
                    // A non-blocking poll only delivers callbacks; its status adds nothing here.
                    let _ = self.device.poll(wgpu::PollType::Poll);
                    std::thread::yield_now();
                }
            }
        };
        mapped.map_err(|e| Error::GpuInternal {
            op,
            message: format!("mapping the readback buffer failed: {e}"),
        })?;
        let values = {
            let view = staging
                .get_mapped_range(..bytes)
                .map_err(|e| Error::GpuInternal {
                    op,
                    message: format!("reading the readback buffer failed: {e}"),
                })?;
            // Byte-wise, so no alignment assumption about the mapping can fail.
            view.chunks_exact(4)
                .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        staging.unmap();
        Ok(values)
    }
}
