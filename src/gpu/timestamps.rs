//! Device time from timestamp queries: how long the GPU itself spent on a compute pass, apart
//! from the host's submit, wait and read-back, which on a fast GPU dominate host timings and
//! hide the differences between kernels.
//!
//! Only pass-level timestamps are used (`timestamp_writes` at the beginning and end of a
//! compute pass): they need wgpu's `TIMESTAMP_QUERY` alone, which Vulkan, DX12, Metal, GL with
//! `GL_ARB_timer_query` and the browser's WebGPU offer, where writes inside a pass are missing
//! on Apple GPUs and the web.

use std::time::Duration;

use super::Gpu;
use crate::error::{Error, Result};

/// Whether a device can time its own work (see [`Gpu::device_timing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceTiming {
    /// Timestamp queries at the beginning and end of each compute pass.
    Timestamps,
    /// The adapter offers no timestamp queries: only host time can be measured.
    Unavailable,
}

impl std::fmt::Display for DeviceTiming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Timestamps => "device time from timestamp queries",
            Self::Unavailable => {
                "no device time: the adapter has no timestamp queries, so times are host times"
            }
        })
    }
}

/// The most passes one [`PassTimer`] times: two queries each, within wgpu's
/// `QUERY_SET_MAX_QUERIES`.
pub(crate) const MAX_PASSES: u32 = wgpu::QUERY_SET_MAX_QUERIES / 2;

/// Begin/end timestamps for up to `passes` compute passes, resolved and read back together.
pub(crate) struct PassTimer {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    passes: u32,
}

impl PassTimer {
    /// A timer for `passes` passes (1 to [`MAX_PASSES`]), or `None` where the device has no
    /// timestamp queries.
    pub(crate) fn new(gpu: &Gpu, passes: u32) -> Option<Self> {
        if gpu.device_timing() != DeviceTiming::Timestamps {
            return None;
        }
        let passes = passes.clamp(1, MAX_PASSES);
        let bytes = u64::from(passes) * 2 * u64::from(wgpu::QUERY_SIZE);
        let buffer = |label, usage| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(Self {
            set: gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("wgcnn pass timer"),
                ty: wgpu::QueryType::Timestamp,
                count: passes * 2,
            }),
            resolve: buffer(
                "wgcnn timestamps",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            readback: buffer(
                "wgcnn timestamps readback",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            passes,
        })
    }

    /// How many passes it can time.
    pub(crate) fn capacity(&self) -> u32 {
        self.passes
    }

    /// The timestamp writes for pass number `pass` (below [`PassTimer::capacity`]).
    pub(crate) fn writes(&self, pass: u32) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(2 * pass),
            end_of_pass_write_index: Some(2 * pass + 1),
        }
    }

    /// Records the resolve and copy of the first `passes` passes' timestamps; call once, after
    /// those passes, in the last encoder before [`PassTimer::read`].
    pub(crate) fn resolve(&self, encoder: &mut wgpu::CommandEncoder, passes: u32) {
        let queries = passes.min(self.passes) * 2;
        encoder.resolve_query_set(&self.set, 0..queries, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(
            &self.resolve,
            0,
            &self.readback,
            0,
            u64::from(queries) * u64::from(wgpu::QUERY_SIZE),
        );
    }

    /// Waits for `submission` (which holds the resolve) and returns each of the first `passes`
    /// passes' device time. A pass whose end reads before its beginning (a driver that
    /// resets its clock, or a pass the driver split across queues) has no time.
    pub(crate) async fn read(
        &self,
        gpu: &Gpu,
        passes: u32,
        submission: wgpu::SubmissionIndex,
    ) -> Result<Vec<Option<Duration>>> {
        const OP: &str = "timestamp queries";
        let passes = passes.min(self.passes);
        let bytes = u64::from(passes) * 2 * u64::from(wgpu::QUERY_SIZE);
        let raw = gpu
            .read_bytes(OP, &self.readback, bytes, submission)
            .await?;
        let period = f64::from(gpu.queue.get_timestamp_period());
        if !(period.is_finite() && period > 0.0) {
            return Err(Error::GpuInternal {
                op: OP,
                message: format!("the queue reports a timestamp period of {period} ns"),
            });
        }
        let ticks: Vec<u64> = raw
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect();
        Ok(ticks
            .chunks_exact(2)
            .map(|pair| {
                let ticks = pair[1].checked_sub(pair[0])?;
                Some(Duration::from_secs_f64(ticks as f64 * period * 1e-9))
            })
            .collect())
    }
}
