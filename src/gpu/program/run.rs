//! Running a planned program: inputs in, one compute pass per chunk, outputs back; and
//! timing it, as a whole and step by step, on the host's clock and the device's.

use std::time::Duration;
use web_time::Instant;

use super::super::kernels::Kernel;
use super::super::scopes::Scopes;
use super::super::timestamps::PassTimer;
use super::super::Gpu;
use super::ParamFn;
use crate::error::{Error, Result};

/// Device memory a program holds, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// Weights (uploaded once).
    pub weights: u64,
    /// Activation buffers, shared between values whose lives do not overlap.
    pub activations: u64,
    /// The readback buffer.
    pub staging: u64,
}

impl Memory {
    /// Everything.
    pub fn total(&self) -> u64 {
        self.weights + self.activations + self.staging
    }
}

/// A model input or output: its buffer and per-example size.
#[derive(Debug, Clone)]
pub(super) struct Io {
    pub(super) buffer: usize,
    pub(super) per_example: usize,
    pub(super) shape: Vec<usize>,
}

/// One step's time in [`Program::profile_loaded`].
#[derive(Debug, Clone)]
pub struct StepTime {
    /// The layer (or fused layers) the step runs: `name (Class)`, `name (Class) + bn + relu`.
    pub label: String,
    /// From submit until the host saw it done.
    pub host: Duration,
    /// The device's own time for the step's pass, where it has timestamp queries.
    pub device: Option<Duration>,
}

pub(super) struct Step {
    pub(super) label: String,
    pub(super) kernel: Kernel,
    pub(super) uniform: wgpu::Buffer,
    pub(super) bind_group: wgpu::BindGroup,
    pub(super) params: ParamFn,
}

/// A built program: run it as often as needed; nothing is allocated per run.
pub struct Program<'g> {
    pub(super) gpu: &'g Gpu,
    pub(super) steps: Vec<Step>,
    pub(super) buffers: Vec<wgpu::Buffer>,
    pub(super) inputs: Vec<Io>,
    pub(super) outputs: Vec<Io>,
    pub(super) staging: wgpu::Buffer,
    pub(super) chunk: usize,
    pub(super) loaded: usize,
    /// The batch size the uniforms were last written for, and the grids for it.
    pub(super) prepared: Option<(usize, Vec<[u32; 2]>)>,
    pub(super) memory: Memory,
    /// Kept alive for the bind groups.
    pub(super) _weights: Vec<wgpu::Buffer>,
}

impl std::fmt::Debug for Program<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("steps", &self.steps.len())
            .field("chunk", &self.chunk)
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl<'g> Program<'g> {
    /// Examples per chunk.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Device memory held.
    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// Dispatches per run.
    pub fn dispatches(&self) -> usize {
        self.steps.len()
    }

    /// Per-example shapes of the outputs.
    pub fn output_shapes(&self) -> Vec<&[usize]> {
        self.outputs.iter().map(|o| o.shape.as_slice()).collect()
    }

    /// Runs `batch` examples: `inputs[i]` holds `batch` examples of input `i`, back to back.
    /// Returns each output's values, `batch` examples back to back. Blocking wrapper of
    /// [`Program::run_async`].
    #[cfg(feature = "native")]
    pub fn run(&mut self, inputs: &[&[f32]], batch: usize) -> Result<Vec<Vec<f32>>> {
        pollster::block_on(self.run_async(inputs, batch))
    }

    /// Runs `batch` examples: `inputs[i]` holds `batch` examples of input `i`, back to back.
    /// Returns each output's values, `batch` examples back to back.
    pub async fn run_async(&mut self, inputs: &[&[f32]], batch: usize) -> Result<Vec<Vec<f32>>> {
        self.check_inputs(inputs, batch)?;
        let mut outs: Vec<Vec<f32>> = self
            .outputs
            .iter()
            .map(|o| Vec::with_capacity(o.per_example * batch))
            .collect();
        for start in (0..batch).step_by(self.chunk) {
            let count = self.chunk.min(batch - start);
            let slices: Vec<&[f32]> = inputs
                .iter()
                .zip(&self.inputs)
                .map(|(x, io)| &x[start * io.per_example..(start + count) * io.per_example])
                .collect();
            self.write_inputs(&slices, count);
            self.run_chunk(count, &mut outs).await?;
        }
        Ok(outs)
    }

    fn check_inputs(&self, inputs: &[&[f32]], batch: usize) -> Result<()> {
        if inputs.len() != self.inputs.len() {
            return Err(Error::ShapeMismatch {
                op: "gpu program",
                what: "inputs",
                expected: format!("{} inputs", self.inputs.len()),
                actual: vec![inputs.len()],
            });
        }
        for (x, io) in inputs.iter().zip(&self.inputs) {
            if Some(x.len()) != io.per_example.checked_mul(batch) {
                return Err(Error::DataLength {
                    shape: [&[batch][..], &io.shape].concat(),
                    expected: io.per_example.saturating_mul(batch),
                    len: x.len(),
                });
            }
        }
        Ok(())
    }

    /// Uploads at most [`Program::chunk_size`] examples for [`Program::run_loaded_async`]: what
    /// a benchmark does to time the device work alone, with the input already resident.
    pub fn load(&mut self, inputs: &[&[f32]], batch: usize) -> Result<()> {
        if batch == 0 || batch > self.chunk {
            return Err(Error::LimitExceeded {
                op: "gpu program",
                what: format!("a resident batch of {batch} examples"),
                needed: batch as u64,
                limit_name: "chunk_size",
                limit: self.chunk as u64,
            });
        }
        self.check_inputs(inputs, batch)?;
        self.write_inputs(inputs, batch);
        Ok(())
    }

    /// Runs the examples last loaded (or the last chunk [`Program::run`] processed). Blocking
    /// wrapper of [`Program::run_loaded_async`].
    #[cfg(feature = "native")]
    pub fn run_loaded(&mut self) -> Result<Vec<Vec<f32>>> {
        pollster::block_on(self.run_loaded_async())
    }

    /// Runs the examples last loaded (or the last chunk [`Program::run_async`] processed).
    pub async fn run_loaded_async(&mut self) -> Result<Vec<Vec<f32>>> {
        if self.loaded == 0 {
            return Err(Error::ShapeMismatch {
                op: "gpu program",
                what: "input",
                expected: "an input loaded with load()".into(),
                actual: vec![],
            });
        }
        let mut outs = vec![Vec::new(); self.outputs.len()];
        self.run_chunk(self.loaded, &mut outs).await?;
        Ok(outs)
    }

    /// Examples currently loaded.
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    fn write_inputs(&mut self, inputs: &[&[f32]], batch: usize) {
        for (x, io) in inputs.iter().zip(&self.inputs) {
            self.gpu
                .queue
                .write_buffer(&self.buffers[io.buffer], 0, bytemuck::cast_slice(x));
        }
        self.loaded = batch;
    }

    /// Writes every step's parameters for `batch` examples; returns their grids. The uniforms
    /// keep what was written last, so a run on as many examples as the last one writes nothing:
    /// a model of a hundred layers made a hundred small uploads per run.
    fn prepare(&mut self, batch: usize) -> Result<Vec<[u32; 2]>> {
        self.gpu.check_health("gpu program")?;
        if let Some((prepared, grids)) = &self.prepared {
            if *prepared == batch {
                return Ok(grids.clone());
            }
        }
        // Forgotten until every uniform holds `batch`'s values.
        self.prepared = None;
        let mut grids = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let d = (step.params)(batch).map_err(|e| e.in_layer(step.label.clone()))?;
            self.gpu.queue.write_buffer(&step.uniform, 0, &d.bytes);
            grids.push(d.grid);
        }
        self.prepared = Some((batch, grids.clone()));
        Ok(grids)
    }

    /// Records `steps` with their grids in one compute pass labelled `label`. One pass for
    /// a whole program, not one per step: wgpu sizes each pass's usage tracking by every
    /// buffer on the device, so a pass per step made recording quadratic in a model's size.
    /// Dispatches within a pass still see each other's writes (wgpu inserts the barriers).
    /// `timestamps` times the pass on the device.
    fn encode<'s>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        label: &str,
        steps: impl IntoIterator<Item = (&'s Step, [u32; 2])>,
        timestamps: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: timestamps,
        });
        for (step, grid) in steps {
            pass.set_pipeline(&self.gpu.pipeline(step.kernel));
            pass.set_bind_group(0, &step.bind_group, &[]);
            pass.dispatch_workgroups(grid[0], grid[1], 1);
        }
    }

    /// Runs every step on the `batch` examples in the input buffers; appends each output's
    /// values to its vector in `outs`, straight from the read-back mapping.
    async fn run_chunk(&mut self, batch: usize, outs: &mut [Vec<f32>]) -> Result<()> {
        const OP: &str = "gpu program";
        let grids = self.prepare(batch)?;
        let scopes = Scopes::push(&self.gpu.device);
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
        self.encode(&mut encoder, OP, self.steps.iter().zip(grids), None);
        let mut offset = 0u64;
        let mut sizes = Vec::with_capacity(self.outputs.len());
        for o in &self.outputs {
            let bytes = (o.per_example * batch * 4) as u64;
            if bytes > 0 {
                encoder.copy_buffer_to_buffer(
                    &self.buffers[o.buffer],
                    0,
                    &self.staging,
                    offset,
                    bytes,
                );
            }
            offset += bytes;
            sizes.push(o.per_example * batch);
        }
        let submission = self.gpu.queue.submit([encoder.finish()]);
        scopes.pop(OP).await?;
        if offset == 0 {
            self.gpu.wait(OP, submission).await
        } else {
            self.gpu
                .read_back_into(OP, &self.staging, &sizes, outs, submission)
                .await
        }
    }

    /// The device's time for one run of the examples last loaded: the whole program as one
    /// compute pass, timed by timestamp queries, with nothing read back. `None` where the
    /// device has no timestamp queries ([`Gpu::device_timing`]); then nothing runs. Blocking
    /// wrapper of [`Program::time_loaded_async`].
    #[cfg(feature = "native")]
    pub fn time_loaded(&mut self) -> Result<Option<Duration>> {
        pollster::block_on(self.time_loaded_async())
    }

    /// The device's time for one run of the examples last loaded (see
    /// [`Program::time_loaded`]).
    pub async fn time_loaded_async(&mut self) -> Result<Option<Duration>> {
        const OP: &str = "gpu program";
        let Some(timer) = PassTimer::new(self.gpu, 1) else {
            return Ok(None);
        };
        let grids = self.prepare(self.loaded.max(1))?;
        let scopes = Scopes::push(&self.gpu.device);
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
        self.encode(
            &mut encoder,
            OP,
            self.steps.iter().zip(grids),
            Some(timer.writes(0)),
        );
        timer.resolve(&mut encoder, 1);
        let submission = self.gpu.queue.submit([encoder.finish()]);
        scopes.pop(OP).await?;
        let times = timer.read(self.gpu, 1, submission).await?;
        Ok(times.into_iter().next().flatten())
    }

    /// Times every dispatch on its own, on the input last loaded: one submission per step,
    /// waited for, each step's pass also timed on the device where it has timestamp queries.
    /// Returns the steps' times in order. Blocking wrapper of
    /// [`Program::profile_loaded_async`].
    #[cfg(feature = "native")]
    pub fn profile_loaded(&mut self) -> Result<Vec<StepTime>> {
        pollster::block_on(self.profile_loaded_async())
    }

    /// Times every dispatch on its own (see [`Program::profile_loaded`]). In a browser the host
    /// time includes the event loop's delivery of each completion.
    pub async fn profile_loaded_async(&mut self) -> Result<Vec<StepTime>> {
        const OP: &str = "gpu program";
        let grids = self.prepare(self.loaded.max(1))?;
        let timer = PassTimer::new(self.gpu, self.steps.len() as u32);
        let mut times: Vec<StepTime> = Vec::with_capacity(self.steps.len());
        // Steps timed on the device since the timer was last read.
        let mut pending = 0u32;
        let last = self.steps.len().saturating_sub(1);
        for (s, (step, grid)) in self.steps.iter().zip(&grids).enumerate() {
            let scopes = Scopes::push(&self.gpu.device);
            let started = Instant::now();
            let mut encoder = self
                .gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
            let writes = timer.as_ref().map(|t| t.writes(pending));
            self.encode(&mut encoder, &step.label, [(step, *grid)], writes);
            let submission = self.gpu.queue.submit([encoder.finish()]);
            scopes.pop(OP).await?;
            self.gpu.wait(OP, submission).await?;
            times.push(StepTime {
                label: step.label.clone(),
                host: started.elapsed(),
                device: None,
            });
            let Some(timer) = &timer else { continue };
            pending += 1;
            if pending == timer.capacity() || s == last {
                // Read the device times outside the timed steps.
                let mut encoder = self
                    .gpu
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
                timer.resolve(&mut encoder, pending);
                let submission = self.gpu.queue.submit([encoder.finish()]);
                let device = timer.read(self.gpu, pending, submission).await?;
                let first = times.len() - pending as usize;
                for (t, d) in times[first..].iter_mut().zip(device) {
                    t.device = d;
                }
                pending = 0;
            }
        }
        Ok(times)
    }
}
