//! A program for the device: the dispatches a model (or a single op) needs, recorded once and
//! run as one command buffer per batch chunk.
//!
//! Layers lower themselves into a [`ProgramBuilder`] through [`super::Lowering`]: they ask for
//! values (activation tensors, per example), upload weights, and record dispatches whose
//! uniform parameters are a function of the chunk's batch size. [`ProgramBuilder::build`] then
//! decides how many examples a chunk holds (the device's binding and buffer limits), gives each
//! value a device buffer — reusing buffers whose values are dead (liveness over the step list)
//! — and creates every bind group once, so that running allocates nothing.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;
#[cfg(feature = "native")]
use std::time::{Duration, Instant};

use wgpu::util::DeviceExt;

use super::kernel::Access;
use super::kernels::Kernel;
use super::scopes::{ScopeCheck, Scopes};
use super::Gpu;
use crate::error::{Error, Result};

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

/// A value: where it lives and how it is laid out. Values written into a Concatenate's output
/// are channel slices of its storage: rows of `pitch` floats, starting at `offset`.
#[derive(Debug, Clone)]
struct ValueInfo {
    storage: usize,
    shape: Vec<usize>,
    offset: usize,
    pitch: usize,
}

#[derive(Debug, Clone)]
struct StorageInfo {
    /// Floats per example.
    per_example: usize,
    /// Model inputs and outputs keep their buffer for the whole program.
    pinned: bool,
    label: String,
}

struct StepSpec {
    label: String,
    kernel: Kernel,
    bindings: Vec<Binding>,
    params: ParamFn,
}

/// Records a program; see the module documentation.
pub struct ProgramBuilder<'g> {
    gpu: &'g Gpu,
    values: Vec<ValueInfo>,
    storages: Vec<StorageInfo>,
    weights: Vec<wgpu::Buffer>,
    weight_bytes: u64,
    dummy: Option<Weight>,
    steps: Vec<StepSpec>,
    label: String,
    /// Model inputs so far (counted, not recounted per input: a model may have thousands).
    inputs: usize,
    /// Weight uploads whose error scopes had no answer yet (a browser answers later), with the
    /// layer that uploaded them: [`ProgramBuilder::build_async`] awaits them.
    unchecked: Vec<(String, ScopeCheck)>,
    /// The first dispatch whose bindings differ from its kernel's slots: reported by
    /// [`ProgramBuilder::build_async`].
    miswired: Option<Error>,
}

impl std::fmt::Debug for ProgramBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramBuilder")
            .field("values", &self.values.len())
            .field("steps", &self.steps.len())
            .finish_non_exhaustive()
    }
}

impl<'g> ProgramBuilder<'g> {
    /// An empty program for `gpu`.
    pub fn new(gpu: &'g Gpu) -> Self {
        Self {
            gpu,
            values: Vec::new(),
            storages: Vec::new(),
            weights: Vec::new(),
            weight_bytes: 0,
            dummy: None,
            steps: Vec::new(),
            label: String::new(),
            inputs: 0,
            unchecked: Vec::new(),
            miswired: None,
        }
    }

    /// The device.
    pub fn gpu(&self) -> &'g Gpu {
        self.gpu
    }

    /// Names the layer whose steps follow (for errors and `bench`'s per-layer times).
    pub(crate) fn set_label(&mut self, label: impl Into<String>) {
        self.label = label.into();
    }

    fn storage(&mut self, shape: &[usize], pinned: bool, label: String) -> Result<Value> {
        let per_example = crate::tensor::element_count(shape).ok_or(Error::Overflow {
            op: "gpu",
            what: "value size",
        })?;
        self.storages.push(StorageInfo {
            per_example,
            pinned,
            label,
        });
        self.values.push(ValueInfo {
            storage: self.storages.len() - 1,
            shape: shape.to_vec(),
            offset: 0,
            pitch: shape.last().copied().unwrap_or(1),
        });
        Ok(Value(self.values.len() - 1))
    }

    /// A model input of per-example `shape`: written by [`Program::run`], kept for the whole
    /// program.
    pub(crate) fn input(&mut self, shape: &[usize]) -> Result<Value> {
        let value = self.storage(shape, true, format!("input {}", self.inputs))?;
        self.inputs += 1;
        Ok(value)
    }

    /// A fresh value of per-example `shape`.
    pub(crate) fn value(&mut self, shape: &[usize]) -> Result<Value> {
        let label = format!("the output of {}", self.label);
        self.storage(shape, false, label)
    }

    /// The same data as `of` under another shape with as many values (Flatten, Reshape, and
    /// the layers that are the identity at inference). `of` must be dense.
    pub(crate) fn view(&mut self, of: Value, shape: &[usize]) -> Result<Value> {
        let info = self.values[of.0].clone();
        let count = crate::tensor::element_count(shape);
        if !self.is_dense(of) || count != crate::tensor::element_count(&info.shape) {
            return Err(Error::Internal {
                op: "gpu",
                message: format!("cannot view {:?} as {shape:?}", info.shape),
            });
        }
        self.values.push(ValueInfo {
            shape: shape.to_vec(),
            pitch: shape.last().copied().unwrap_or(1),
            ..info
        });
        Ok(Value(self.values.len() - 1))
    }

    /// A channel slice `[offset, offset + shape.last)` of `whole` (whose last axis is the
    /// slice's row pitch): where a producer writes its part of a Concatenate's output.
    pub(crate) fn channel_slice(
        &mut self,
        whole: Value,
        offset: usize,
        shape: &[usize],
    ) -> Result<Value> {
        let info = self.values[whole.0].clone();
        let lead = |s: &[usize]| s.split_last().map(|(_, l)| l.to_vec());
        let channels = shape.last().copied().unwrap_or(0);
        if lead(shape) != lead(&info.shape) || offset + channels > info.pitch {
            return Err(Error::Internal {
                op: "gpu",
                message: format!(
                    "{shape:?} at channel {offset} does not fit in {:?}",
                    info.shape
                ),
            });
        }
        self.values.push(ValueInfo {
            storage: info.storage,
            shape: shape.to_vec(),
            offset,
            pitch: info.pitch,
        });
        Ok(Value(self.values.len() - 1))
    }

    /// A value's per-example shape.
    pub(crate) fn shape(&self, v: Value) -> &[usize] {
        &self.values[v.0].shape
    }

    /// `(channel offset, row pitch)` of a value: `(0, channels)` unless it is a slice.
    pub(crate) fn layout(&self, v: Value) -> (usize, usize) {
        let info = &self.values[v.0];
        (info.offset, info.pitch)
    }

    /// Whether `part` is the channel slice of `whole`'s storage that starts at `offset`.
    pub(crate) fn is_slice_of(&self, part: Value, whole: Value, offset: usize) -> bool {
        let (p, w) = (&self.values[part.0], &self.values[whole.0]);
        p.storage == w.storage && p.offset == offset && p.pitch == w.pitch
    }

    /// Whether a value is stored densely (not a channel slice of a larger tensor).
    pub(crate) fn is_dense(&self, v: Value) -> bool {
        let info = &self.values[v.0];
        info.offset == 0 && info.pitch == info.shape.last().copied().unwrap_or(1)
    }

    /// Uploads a weight buffer (checked against the binding limits first).
    pub(crate) fn weight(&mut self, label: &str, data: &[f32]) -> Result<Weight> {
        self.gpu.check_storage("gpu", label, data.len())?;
        let scopes = Scopes::push(&self.gpu.device);
        // A binding cannot be empty, and some kernels read weights as vec4s.
        let mut small = [0.0f32; 4];
        let contents: &[f32] = if data.len() < 4 {
            small[..data.len()].copy_from_slice(data);
            &small
        } else {
            data
        };
        let buffer = self
            .gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(contents),
                usage: wgpu::BufferUsages::STORAGE,
            });
        // Lowering cannot await: an answer that is not there yet is checked when building.
        match scopes.pop("upload weights").now() {
            Ok(outcome) => outcome?,
            Err(later) => self.unchecked.push((self.label.clone(), later)),
        }
        self.weight_bytes += buffer.size();
        self.weights.push(buffer);
        Ok(Weight(self.weights.len() - 1))
    }

    /// A small zero buffer for bindings a kernel does not read (no bias, no per-channel map).
    pub(crate) fn unused(&mut self) -> Result<Weight> {
        if let Some(w) = self.dummy {
            return Ok(w);
        }
        let w = self.weight("unused", &[])?;
        self.dummy = Some(w);
        Ok(w)
    }

    /// Records a dispatch of `kernel` with bindings 1.. as given, which must be what the
    /// kernel's slots declare (the contract test holds those against the WGSL): a value written
    /// where it writes, a weight where it reads weights, a value or a weight where it reads.
    pub(crate) fn dispatch(&mut self, kernel: Kernel, bindings: Vec<Binding>, params: ParamFn) {
        let slots = kernel.def().slots;
        let fits = bindings.len() == slots.len()
            && bindings.iter().zip(slots).all(|(b, s)| {
                matches!(
                    (b, s.access),
                    (Binding::Read(_) | Binding::Weight(_), Access::Read)
                        | (Binding::Write(_), Access::Write)
                        | (Binding::Weight(_), Access::Weight)
                )
            });
        if !fits && self.miswired.is_none() {
            self.miswired = Some(Error::Internal {
                op: "gpu program",
                message: format!(
                    "{} binds {bindings:?}, its kernel declares {slots:?}",
                    kernel.def().name
                ),
            });
        }
        self.steps.push(StepSpec {
            label: self.label.clone(),
            kernel,
            bindings,
            params,
        });
    }

    /// Finishes the program: `inputs` are written by [`Program::run_async`] in this order,
    /// `outputs` read back in this order, at most `max_batch` examples per chunk.
    pub async fn build_async(
        mut self,
        inputs: &[Value],
        outputs: &[Value],
        max_batch: usize,
    ) -> Result<Program<'g>> {
        const OP: &str = "gpu program";
        if let Some(e) = self.miswired.take() {
            return Err(e);
        }
        let gpu = self.gpu;
        for (layer, check) in std::mem::take(&mut self.unchecked) {
            check.await.map_err(|e| e.in_layer(layer))?;
        }
        gpu.check_health(OP)?;
        for &o in outputs {
            if !self.is_dense(o) {
                return Err(Error::Internal {
                    op: OP,
                    message: "an output is a channel slice".into(),
                });
            }
        }
        let mut pinned: Vec<bool> = self.storages.iter().map(|s| s.pinned).collect();
        for &o in outputs {
            pinned[self.values[o.0].storage] = true;
        }

        // How many examples fit: every value's buffer must fit one binding.
        let limit = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size);
        let widest = self
            .storages
            .iter()
            .max_by_key(|s| s.per_example)
            .map_or((1, String::new()), |s| {
                (s.per_example.max(1) as u64, s.label.clone())
            });
        let per_example_bytes = widest.0.saturating_mul(4);
        let mut chunk = (limit / per_example_bytes).min(max_batch.max(1) as u64) as usize;
        if chunk == 0 {
            return Err(Error::LimitExceeded {
                op: OP,
                what: format!(
                    "one example's largest tensor, {} ({} floats)",
                    widest.1, widest.0
                ),
                needed: per_example_bytes,
                limit_name: "max_storage_buffer_binding_size",
                limit,
            });
        }
        // Every dispatch must fit the grid limits for a full chunk; halve until it does.
        'fit: loop {
            for step in &self.steps {
                match (step.params)(chunk) {
                    Ok(_) => {}
                    Err(Error::LimitExceeded { .. }) if chunk > 1 => {
                        chunk = chunk.div_ceil(2);
                        continue 'fit;
                    }
                    Err(e) => return Err(e.in_layer(step.label.clone())),
                }
            }
            break;
        }

        let storage_buffer = assign_buffers(&self.storages, &pinned, &self.steps, &self.values);
        let mut buffer_sizes = vec![0usize; storage_buffer.iter().max().map_or(0, |m| m + 1)];
        for (s, &b) in storage_buffer.iter().enumerate() {
            buffer_sizes[b] = buffer_sizes[b].max(self.storages[s].per_example);
        }

        let scopes = Scopes::push(&gpu.device);
        let buffers: Vec<wgpu::Buffer> = buffer_sizes
            .iter()
            .enumerate()
            .map(|(i, &floats)| {
                gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("activations {i}")),
                    size: ((floats * chunk * 4) as u64).max(16),
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_DST
                        | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            let uniform = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("params"),
                size: step.kernel.def().params.size as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let buffer_of = |b: &Binding| match *b {
                Binding::Read(v) | Binding::Write(v) => {
                    &buffers[storage_buffer[self.values[v.0].storage]]
                }
                Binding::Weight(w) => &self.weights[w.0],
            };
            let entries: Vec<wgpu::BindGroupEntry<'_>> = std::iter::once(&uniform)
                .chain(step.bindings.iter().map(buffer_of))
                .enumerate()
                .map(|(i, buffer)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: buffer.as_entire_binding(),
                })
                .collect();
            let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&step.label),
                layout: &gpu.pipeline(step.kernel).get_bind_group_layout(0),
                entries: &entries,
            });
            steps.push(Step {
                label: step.label,
                kernel: step.kernel,
                uniform,
                bind_group,
                params: step.params,
            });
        }
        let io = |v: &Value| -> Io {
            let info = &self.values[v.0];
            Io {
                buffer: storage_buffer[info.storage],
                per_example: self.storages[info.storage].per_example,
                shape: info.shape.clone(),
            }
        };
        let inputs: Vec<Io> = inputs.iter().map(io).collect();
        let outputs: Vec<Io> = outputs.iter().map(io).collect();
        let out_floats: usize = outputs.iter().map(|o| o.per_example).sum();
        let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: ((out_floats * chunk * 4) as u64).max(16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        scopes.pop(OP).await?;
        let activation_bytes = buffers.iter().map(wgpu::Buffer::size).sum();
        Ok(Program {
            gpu,
            steps,
            buffers,
            inputs,
            outputs,
            staging,
            chunk,
            loaded: 0,
            memory: Memory {
                weights: self.weight_bytes,
                activations: activation_bytes,
                staging: (out_floats * chunk * 4) as u64,
            },
            _weights: self.weights,
        })
    }
}

/// Gives every storage a device buffer index, sharing buffers between storages whose lives do
/// not overlap. A storage lives from the first step that touches it to the last; pinned ones
/// (inputs, outputs) for the whole program. Greedy: each storage, in order of birth, takes the
/// smallest free buffer at least its size, else the largest free one (grown), else a new one.
fn assign_buffers(
    storages: &[StorageInfo],
    pinned: &[bool],
    steps: &[StepSpec],
    values: &[ValueInfo],
) -> Vec<usize> {
    let n = storages.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (i, step) in steps.iter().enumerate() {
        for b in &step.bindings {
            if let Binding::Read(v) | Binding::Write(v) = b {
                let s = values[v.0].storage;
                first[s] = first[s].min(i);
                last[s] = last[s].max(i);
            }
        }
    }
    for s in 0..n {
        if pinned[s] || first[s] == usize::MAX {
            first[s] = 0;
            last[s] = usize::MAX;
        }
    }
    let sizes: Vec<usize> = storages.iter().map(|s| s.per_example).collect();
    share_buffers(&sizes, &first, &last)
}

/// [`assign_buffers`]' greedy sharing, for storages of `size_of` floats alive from step
/// `first` to step `last` (inclusive). Sets and a heap rather than a scan of every buffer per
/// storage, which was quadratic in a model's outputs (each pinned, each its own buffer).
fn share_buffers(size_of: &[usize], first: &[usize], last: &[usize]) -> Vec<usize> {
    let n = size_of.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&s| (first[s], s));
    // Buffer sizes; the busy buffers by the last step of the storage holding them; the free
    // ones by (size, index).
    let mut sizes: Vec<usize> = Vec::new();
    let mut busy: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    let mut free: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut assigned = vec![0usize; n];
    for s in order {
        while let Some(&Reverse((end, b))) = busy.peek() {
            if end >= first[s] {
                break;
            }
            busy.pop();
            free.insert((sizes[b], b));
        }
        let size = size_of[s];
        // The smallest free buffer that fits (the lowest index among equals), else the largest
        // free one (the highest index among equals), grown.
        let chosen = free
            .range((size, 0)..)
            .next()
            .or_else(|| free.last())
            .copied();
        let b = match chosen {
            Some(key) => {
                free.remove(&key);
                key.1
            }
            None => {
                sizes.push(0);
                sizes.len() - 1
            }
        };
        sizes[b] = sizes[b].max(size);
        busy.push(Reverse((last[s], b)));
        assigned[s] = b;
    }
    assigned
}

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
struct Io {
    buffer: usize,
    per_example: usize,
    shape: Vec<usize>,
}

struct Step {
    label: String,
    kernel: Kernel,
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    params: ParamFn,
}

/// A built program: run it as often as needed; nothing is allocated per run.
pub struct Program<'g> {
    gpu: &'g Gpu,
    steps: Vec<Step>,
    buffers: Vec<wgpu::Buffer>,
    inputs: Vec<Io>,
    outputs: Vec<Io>,
    staging: wgpu::Buffer,
    chunk: usize,
    loaded: usize,
    memory: Memory,
    /// Kept alive for the bind groups.
    _weights: Vec<wgpu::Buffer>,
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
            for (out, part) in outs.iter_mut().zip(self.run_chunk(count).await?) {
                out.extend(part);
            }
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
        self.run_chunk(self.loaded).await
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

    /// Writes every step's parameters for `batch` examples; returns their grids.
    fn prepare(&self, batch: usize) -> Result<Vec<[u32; 2]>> {
        self.gpu.check_health("gpu program")?;
        let mut grids = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let d = (step.params)(batch).map_err(|e| e.in_layer(step.label.clone()))?;
            self.gpu.queue.write_buffer(&step.uniform, 0, &d.bytes);
            grids.push(d.grid);
        }
        Ok(grids)
    }

    /// Records `steps` with their grids in one compute pass labelled `label`. One pass for
    /// a whole program, not one per step: wgpu sizes each pass's usage tracking by every
    /// buffer on the device, so a pass per step made recording quadratic in a model's size.
    /// Dispatches within a pass still see each other's writes (wgpu inserts the barriers).
    fn encode<'s>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        label: &str,
        steps: impl IntoIterator<Item = (&'s Step, [u32; 2])>,
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: None,
        });
        for (step, grid) in steps {
            pass.set_pipeline(&self.gpu.pipeline(step.kernel));
            pass.set_bind_group(0, &step.bind_group, &[]);
            pass.dispatch_workgroups(grid[0], grid[1], 1);
        }
    }

    /// Runs every step on the `batch` examples in the input buffers; reads the outputs back.
    async fn run_chunk(&mut self, batch: usize) -> Result<Vec<Vec<f32>>> {
        const OP: &str = "gpu program";
        let grids = self.prepare(batch)?;
        let scopes = Scopes::push(&self.gpu.device);
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
        self.encode(&mut encoder, OP, self.steps.iter().zip(grids));
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
        let all = if offset == 0 {
            self.gpu.wait(OP, submission).await?;
            Vec::new()
        } else {
            self.gpu
                .read_back(OP, &self.staging, offset, submission)
                .await?
        };
        let mut outs = Vec::with_capacity(sizes.len());
        let mut rest = all.as_slice();
        for n in sizes {
            let (head, tail) = rest.split_at(n.min(rest.len()));
            outs.push(head.to_vec());
            rest = tail;
        }
        Ok(outs)
    }

    /// Times every dispatch on its own, on the input last loaded: one submission per step,
    /// waited for. Returns each step's layer label and time, in order. Native only: it needs
    /// a clock and blocking waits.
    #[cfg(feature = "native")]
    pub fn profile_loaded(&mut self) -> Result<Vec<(String, Duration)>> {
        pollster::block_on(self.profile_loaded_inner())
    }

    #[cfg(feature = "native")]
    async fn profile_loaded_inner(&mut self) -> Result<Vec<(String, Duration)>> {
        const OP: &str = "gpu program";
        let grids = self.prepare(self.loaded.max(1))?;
        let mut times = Vec::with_capacity(self.steps.len());
        for (step, grid) in self.steps.iter().zip(&grids) {
            let scopes = Scopes::push(&self.gpu.device);
            let started = Instant::now();
            let mut encoder = self
                .gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
            self.encode(&mut encoder, &step.label, [(step, *grid)]);
            let submission = self.gpu.queue.submit([encoder.finish()]);
            scopes.pop(OP).await?;
            self.gpu.wait(OP, submission).await?;
            times.push((step.label.clone(), started.elapsed()));
        }
        Ok(times)
    }
}

#[cfg(test)]
mod tests {
    use super::share_buffers;

    /// The first version of the greedy sharing: a scan of every buffer per storage.
    fn scan(size_of: &[usize], first: &[usize], last: &[usize]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..size_of.len()).collect();
        order.sort_by_key(|&s| (first[s], s));
        let mut buffers: Vec<(usize, usize)> = Vec::new();
        let mut assigned = vec![0usize; size_of.len()];
        for s in order {
            let free = |b: &(usize, usize)| b.1 < first[s];
            let fitting = buffers
                .iter()
                .enumerate()
                .filter(|(_, b)| free(b) && b.0 >= size_of[s])
                .min_by_key(|(_, b)| b.0)
                .map(|(i, _)| i);
            let chosen = fitting.or_else(|| {
                buffers
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| free(b))
                    .max_by_key(|(_, b)| b.0)
                    .map(|(i, _)| i)
            });
            let b = chosen.unwrap_or_else(|| {
                buffers.push((0, 0));
                buffers.len() - 1
            });
            buffers[b] = (buffers[b].0.max(size_of[s]), last[s]);
            assigned[s] = b;
        }
        assigned
    }

    #[test]
    fn sharing_is_the_scans_sharing() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for case in 0..500 {
            let n = 1 + case % 40;
            let steps = 1 + next(30);
            let size_of: Vec<usize> = (0..n).map(|_| 1 + next(8)).collect();
            let (mut first, mut last) = (Vec::new(), Vec::new());
            for _ in 0..n {
                if next(5) == 0 {
                    // Pinned.
                    first.push(0);
                    last.push(usize::MAX);
                } else {
                    let a = next(steps);
                    first.push(a);
                    last.push(a + next(steps - a));
                }
            }
            assert_eq!(
                share_buffers(&size_of, &first, &last),
                scan(&size_of, &first, &last),
                "case {case}: sizes {size_of:?}, first {first:?}, last {last:?}"
            );
        }
    }

    #[test]
    fn many_pinned_storages_take_linear_time() {
        // 200,000 model outputs, each pinned: 2·10^10 buffer visits for the scan.
        let n = 200_000;
        let started = std::time::Instant::now();
        let assigned = share_buffers(&vec![4; n], &vec![0; n], &vec![usize::MAX; n]);
        assert_eq!(assigned, (0..n).collect::<Vec<_>>());
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }
}
