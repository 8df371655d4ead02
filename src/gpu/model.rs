//! A whole model on the device: weights uploaded once, an input buffer and two activation
//! buffers allocated once (the layers write the two in turn), one command buffer and one
//! readback per batch chunk.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use wgpu::util::DeviceExt;

use super::{Gpu, Kernel, WindowParams};
use crate::error::{Error, Result};
use crate::model::{Layer, LayerActivation, Model, ReluSpec};
use crate::ops::{Conv2dSpec, Pool2dSpec};
use crate::shape::{AxisPlan, Window2d};
use crate::tensor::{element_count, Tensor};

const OP: &str = "model";

/// What a step computes, with what it needs to build its parameters for any batch size.
enum StepOp {
    /// A sliding-window kernel on an NHWC input of per-example shape `(h, w, c)`.
    Window {
        kernel: Kernel,
        window: WindowOp,
        hwc: [usize; 3],
        has_bias: bool,
        activation: u32,
    },
    /// Element-wise over `per_example` values, `channels` on the last axis.
    Elementwise {
        per_example: usize,
        channels: usize,
        activation: u32,
        affine: bool,
        relu: Option<ReluSpec>,
    },
    /// Softmax over rows of `cols`, `rows` per example.
    Softmax { rows: usize, cols: usize },
}

#[derive(Clone, Copy)]
enum WindowOp {
    Conv(Conv2dSpec),
    Pool(Pool2dSpec),
    ZeroPad([[usize; 2]; 2]),
}

/// One dispatch: its op, its uniform buffer (rewritten per chunk), and its bind group, fixed
/// at compile time because the activation buffers alternate in a known order.
struct Step {
    layer: String,
    op: StepOp,
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// A model compiled for one device (see [`Gpu::compile`]): run it as often as needed; nothing
/// is allocated per call. `run` takes `&mut self` because the buffers are reused.
pub struct GpuModel<'g> {
    gpu: &'g Gpu,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    steps: Vec<Step>,
    /// The input, then two buffers the layers write in turn.
    activations: [wgpu::Buffer; 3],
    /// Where one chunk's output is copied for reading back.
    staging: wgpu::Buffer,
    /// Which of `activations` holds the model's output.
    result: usize,
    /// Examples per chunk: as many as the buffers and the dispatch grid allow.
    chunk: usize,
    /// Examples currently in the input buffer.
    loaded: usize,
    /// Kept alive for the bind groups.
    _weights: Vec<wgpu::Buffer>,
}

impl std::fmt::Debug for GpuModel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuModel")
            .field("steps", &self.steps.len())
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

impl Gpu {
    /// Uploads `model`'s weights and allocates its activation buffers for batches of up to
    /// `max_batch` examples per dispatch round (fewer if the device's limits demand it; larger
    /// inputs run in several rounds).
    pub fn compile(&self, model: &Model, max_batch: usize) -> Result<GpuModel<'_>> {
        model.check_input(&[&[1][..], model.input_shape()].concat())?;
        let shapes = model.shapes();
        let per_example = shapes
            .iter()
            .map(|s| {
                element_count(s).ok_or(Error::Overflow {
                    op: OP,
                    what: "layer size",
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let widest = per_example.iter().copied().max().unwrap_or(1).max(1) as u64;
        let per_dim = u64::from(self.limits.max_compute_workgroups_per_dimension);
        let capacity = [
            self.limits.max_storage_buffer_binding_size / 4,
            self.limits.max_buffer_size / 4,
            per_dim
                .saturating_mul(per_dim)
                .saturating_mul(super::WORKGROUP_SIZE),
            u64::from(u32::MAX),
        ]
        .into_iter()
        .min()
        .unwrap_or(0);
        let chunk = (capacity / widest).min(max_batch.max(1) as u64) as usize;
        if chunk == 0 {
            return Err(Error::LimitExceeded {
                op: OP,
                what: format!("one example's largest activation ({widest} floats)"),
                needed: widest * 4,
                limit_name: "max_storage_buffer_binding_size",
                limit: self.limits.max_storage_buffer_binding_size,
            });
        }
        let activation = |label, floats: u64| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (floats * chunk as u64 * 4).max(4),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        };
        let scopes = super::Scopes::push(&self.device);
        // The input keeps a buffer of its own, so that it survives the run (a benchmark can
        // repeat `run_loaded`); the layers alternate between the other two.
        let input_floats = per_example.first().copied().unwrap_or(1) as u64;
        let activations = [
            activation("input", input_floats),
            activation("activations a", widest),
            activation("activations b", widest),
        ];
        let mut weights = Vec::new();
        let mut steps = Vec::new();
        let mut current = 0usize;
        for (i, l) in model.layers().iter().enumerate().skip(1) {
            let input = &shapes[i - 1];
            let w = model.weights(i);
            let label = format!("{} ({})", l.name, l.class_name);
            let mut upload = |name: &str, data: &[f32]| -> Result<usize> {
                self.check_storage(OP, name, data.len())?;
                weights.push(
                    self.device
                        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                            label: Some(name),
                            // A placeholder for unused bindings, large enough for a vec4 view.
                            contents: bytemuck::cast_slice(if data.is_empty() {
                                &[0.0f32; 4][..]
                            } else {
                                data
                            }),
                            usage: wgpu::BufferUsages::STORAGE,
                        }),
                );
                Ok(weights.len() - 1)
            };
            let hwc = |layer: &str| -> Result<[usize; 3]> {
                input.as_slice().try_into().map_err(|_| Error::ModelConfig {
                    layer: layer.to_string(),
                    message: "needs an (h, w, c) input".into(),
                })
            };
            let rows = |shape: &[usize]| {
                shape
                    .split_last()
                    .map_or(1, |(_, lead)| lead.iter().product::<usize>())
            };
            // Each layer becomes zero, one or two steps, each with the weight buffers it reads.
            let mut ops: Vec<(StepOp, Vec<usize>)> = Vec::new();
            match &l.layer {
                Layer::Input(_) | Layer::Flatten | Layer::Dropout => {}
                Layer::Conv2d { spec, softmax } => {
                    let variant = self.conv_variant(spec, [chunk, input[0], input[1], input[2]])?;
                    let kernel =
                        upload("kernel", &variant.filter_layout(w[0].data(), spec.filters))?;
                    let bias = upload(
                        "bias",
                        &w.get(1).map_or(Cow::Borrowed(&[0.0; 4][..]), |b| {
                            variant.filter_layout(b.data(), spec.filters)
                        }),
                    )?;
                    ops.push((
                        StepOp::Window {
                            kernel: variant.kernel(input[2], spec.filters),
                            window: WindowOp::Conv(*spec),
                            hwc: hwc(&label)?,
                            has_bias: spec.use_bias,
                            activation: spec.activation.shader_code(),
                        },
                        vec![kernel, bias],
                    ));
                    if *softmax {
                        ops.push((
                            StepOp::Softmax {
                                rows: rows(&shapes[i]),
                                cols: spec.filters,
                            },
                            vec![],
                        ));
                    }
                }
                Layer::MaxPool2d(spec) | Layer::AvgPool2d(spec) => {
                    let kernel = if matches!(l.layer, Layer::MaxPool2d(_)) {
                        Kernel::MaxPool2d
                    } else {
                        Kernel::AvgPool2d
                    };
                    ops.push((
                        window_op(kernel, WindowOp::Pool(*spec), hwc(&label)?),
                        vec![],
                    ));
                }
                Layer::GlobalMaxPool2d { .. } | Layer::GlobalAvgPool2d { .. } => {
                    let [h, w, c] = hwc(&label)?;
                    let kernel = if matches!(l.layer, Layer::GlobalMaxPool2d { .. }) {
                        Kernel::MaxPool2d
                    } else {
                        Kernel::AvgPool2d
                    };
                    ops.push((
                        window_op(kernel, WindowOp::Pool(Pool2dSpec::new([h, w])), [h, w, c]),
                        vec![],
                    ));
                }
                Layer::ZeroPadding2d(padding) => {
                    ops.push((
                        window_op(
                            Kernel::ZeroPadding2d,
                            WindowOp::ZeroPad(*padding),
                            hwc(&label)?,
                        ),
                        vec![],
                    ));
                }
                Layer::Dense {
                    units,
                    use_bias,
                    activation,
                } => {
                    // Dense is a 1×1 convolution over the leading axes: its (in, units) kernel
                    // is already the HWIO kernel (1, 1, in, units), so the conv kernels serve.
                    let spec = Conv2dSpec::new(*units, [1, 1])
                        .use_bias(*use_bias)
                        .activation(activation.elementwise());
                    let hwc = [rows(input), 1, input.last().copied().unwrap_or(1)];
                    let variant = self.conv_variant(&spec, [chunk, hwc[0], hwc[1], hwc[2]])?;
                    let kernel = upload("kernel", &variant.filter_layout(w[0].data(), *units))?;
                    let bias = upload(
                        "bias",
                        &if *use_bias {
                            variant.filter_layout(w[1].data(), *units)
                        } else {
                            Cow::Borrowed(&[0.0; 4][..])
                        },
                    )?;
                    ops.push((
                        StepOp::Window {
                            kernel: variant.kernel(hwc[2], *units),
                            window: WindowOp::Conv(spec),
                            hwc,
                            has_bias: *use_bias,
                            activation: spec.activation.shader_code(),
                        },
                        vec![kernel, bias],
                    ));
                    if *activation == LayerActivation::Softmax {
                        ops.push((
                            StepOp::Softmax {
                                rows: rows(input),
                                cols: *units,
                            },
                            vec![],
                        ));
                    }
                }
                Layer::Activation(LayerActivation::Softmax) => {
                    ops.push((
                        StepOp::Softmax {
                            rows: rows(input),
                            cols: input.last().copied().unwrap_or(1),
                        },
                        vec![],
                    ));
                }
                Layer::Activation(a) => {
                    let none = upload("unused", &[])?;
                    ops.push((
                        elementwise(input, a.elementwise().shader_code(), false, None),
                        vec![none, none],
                    ));
                }
                Layer::Relu(spec) => {
                    let none = upload("unused", &[])?;
                    ops.push((elementwise(input, 0, false, Some(*spec)), vec![none, none]));
                }
                Layer::BatchNorm {
                    epsilon,
                    center,
                    scale,
                } => {
                    let (scale_v, shift_v) = fold_batch_norm(w, *center, *scale, *epsilon);
                    let s = upload("bn scale", &scale_v)?;
                    let t = upload("bn shift", &shift_v)?;
                    ops.push((elementwise(input, 0, true, None), vec![s, t]));
                }
            }
            for (op, bound) in ops {
                let uniform = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("params"),
                    size: 80,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let mut inputs = vec![&activations[current]];
                inputs.extend(bound.iter().map(|&b| &weights[b]));
                let output = if current == 1 { 2 } else { 1 };
                let bind_group =
                    self.bind_group(op.kernel(), &uniform, &inputs, &activations[output]);
                steps.push(Step {
                    layer: label.clone(),
                    op,
                    uniform,
                    bind_group,
                });
                current = output;
            }
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: (per_example.last().copied().unwrap_or(1).max(1) * chunk * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        scopes.pop(OP)?;
        Ok(GpuModel {
            gpu: self,
            input_shape: model.input_shape().to_vec(),
            output_shape: model.output_shape().to_vec(),
            steps,
            activations,
            staging,
            result: current,
            chunk,
            loaded: 0,
            _weights: weights,
        })
    }
}

fn window_op(kernel: Kernel, window: WindowOp, hwc: [usize; 3]) -> StepOp {
    StepOp::Window {
        kernel,
        window,
        hwc,
        has_bias: false,
        activation: 0,
    }
}

fn elementwise(input: &[usize], activation: u32, affine: bool, relu: Option<ReluSpec>) -> StepOp {
    StepOp::Elementwise {
        per_example: input.iter().product(),
        channels: input.last().copied().unwrap_or(1),
        activation,
        affine,
        relu,
    }
}

/// BatchNormalization at inference as `x·scale + shift` per channel, computed in f64:
/// `scale = gamma / sqrt(var + eps)`, `shift = beta − mean·scale`.
fn fold_batch_norm(w: &[Tensor], center: bool, scale: bool, epsilon: f32) -> (Vec<f32>, Vec<f32>) {
    let mut it = w.iter();
    let gamma = if scale { it.next() } else { None };
    let beta = if center { it.next() } else { None };
    let (mean, var) = (it.next(), it.next());
    let channels = mean.map_or(0, |m| m.data().len());
    (0..channels)
        .map(|c| {
            let g = gamma.map_or(1.0, |t| f64::from(t.data()[c]));
            let b = beta.map_or(0.0, |t| f64::from(t.data()[c]));
            let m = mean.map_or(0.0, |t| f64::from(t.data()[c]));
            let v = var.map_or(1.0, |t| f64::from(t.data()[c]));
            let s = g / (v + f64::from(epsilon)).sqrt();
            (s as f32, (b - m * s) as f32)
        })
        .unzip()
}

impl StepOp {
    /// Values per invocation of an element-wise step: 4 (the vec4 kernel) when every example's
    /// values, and the per-channel maps' channels, come in whole vec4s.
    fn elementwise_lanes(&self) -> usize {
        match self {
            StepOp::Elementwise {
                per_example,
                channels,
                affine,
                ..
            } if per_example % 4 == 0 && (!affine || channels % 4 == 0) => 4,
            _ => 1,
        }
    }

    fn kernel(&self) -> Kernel {
        match self {
            StepOp::Window { kernel, .. } => *kernel,
            StepOp::Elementwise { .. } if self.elementwise_lanes() == 4 => Kernel::Elementwise4,
            StepOp::Elementwise { .. } => Kernel::Elementwise,
            StepOp::Softmax { .. } => Kernel::Softmax,
        }
    }

    /// The uniform parameters and workgroup grid for a chunk of `batch` examples.
    fn params(&self, gpu: &Gpu, batch: usize) -> Result<(Vec<u8>, [u32; 2])> {
        let u = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(match self {
            StepOp::Window {
                kernel,
                window,
                hwc: [h, w, c],
                has_bias,
                activation,
            } => {
                let input = [batch, *h, *w, *c];
                let g = match window {
                    WindowOp::Conv(spec) => spec.plan(input)?,
                    WindowOp::Pool(spec) => spec.plan(input)?,
                    WindowOp::ZeroPad([[t, b], [l, r]]) => {
                        let axis = |n: usize, before: usize, after: usize| AxisPlan {
                            output: n + before + after,
                            pad_before: before,
                            pad_after: after,
                        };
                        let (rows, cols) = (axis(*h, *t, *b), axis(*w, *l, *r));
                        Window2d {
                            input,
                            output: [batch, rows.output, cols.output, *c],
                            window: [1, 1],
                            strides: [1, 1],
                            dilation: [1, 1],
                            rows,
                            cols,
                        }
                    }
                };
                let mut d = gpu.window_dispatch(OP, &g, *kernel)?;
                d.params.has_bias = u32::from(*has_bias);
                d.params.activation = *activation;
                (
                    bytemuck::bytes_of::<WindowParams>(&d.params).to_vec(),
                    d.grid,
                )
            }
            StepOp::Elementwise {
                per_example,
                channels,
                activation,
                affine,
                relu,
            } => {
                // The vec4 kernel counts in vec4s.
                let lanes = self.elementwise_lanes();
                let total = batch * per_example / lanes;
                let grid = gpu.grid(OP, total)?;
                let r = relu.unwrap_or(ReluSpec {
                    max_value: None,
                    negative_slope: 0.0,
                    threshold: 0.0,
                });
                let words: [u32; 12] = [
                    u(total),
                    u(*channels / lanes),
                    *activation,
                    u32::from(*affine),
                    u32::from(relu.is_some()),
                    u32::from(r.max_value.is_some()),
                    r.max_value.unwrap_or(0.0).to_bits(),
                    r.negative_slope.to_bits(),
                    r.threshold.to_bits(),
                    grid[0],
                    0,
                    0,
                ];
                (bytemuck::cast_slice(&words).to_vec(), grid)
            }
            StepOp::Softmax { rows, cols } => {
                let total = batch * rows;
                let grid = gpu.grid(OP, total)?;
                (
                    bytemuck::cast_slice(&[u(total), u(*cols), grid[0], 0]).to_vec(),
                    grid,
                )
            }
        })
    }
}

impl GpuModel<'_> {
    /// Examples per dispatch round.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Runs the forward pass on `input` (`(batch, ..input_shape)`), in chunks of at most
    /// [`GpuModel::chunk_size`] examples; activations stay on the device from layer to layer.
    pub fn run(&mut self, input: &Tensor) -> Result<Tensor> {
        let batch = crate::model::batch_size(&self.input_shape, input.shape())?;
        let per_in: usize = self.input_shape.iter().product();
        let per_out: usize = self.output_shape.iter().product();
        let mut out = Vec::with_capacity(batch * per_out);
        for start in (0..batch).step_by(self.chunk) {
            let count = self.chunk.min(batch - start);
            self.write_input(
                &input.data()[start * per_in..(start + count) * per_in],
                count,
            );
            out.extend(self.run_chunk(count)?);
        }
        let mut out_shape = vec![batch];
        out_shape.extend_from_slice(&self.output_shape);
        Tensor::new(out_shape, out)
    }

    /// Uploads `input` (at most [`GpuModel::chunk_size`] examples) for [`GpuModel::run_loaded`]:
    /// what a benchmark does to time the device work alone, with the input already resident.
    pub fn load(&mut self, input: &Tensor) -> Result<()> {
        let batch = crate::model::batch_size(&self.input_shape, input.shape())?;
        if batch > self.chunk {
            return Err(Error::LimitExceeded {
                op: OP,
                what: format!("a resident batch of {batch} examples"),
                needed: batch as u64,
                limit_name: "chunk_size",
                limit: self.chunk as u64,
            });
        }
        self.write_input(input.data(), batch);
        Ok(())
    }

    /// Runs the forward pass on the examples last passed to [`GpuModel::load`] (or the last
    /// chunk [`GpuModel::run`] processed) and reads the output back.
    pub fn run_loaded(&mut self) -> Result<Tensor> {
        let batch = self.loaded;
        if batch == 0 {
            return Err(Error::ShapeMismatch {
                op: OP,
                what: "input",
                expected: "an input loaded with GpuModel::load".into(),
                actual: vec![],
            });
        }
        let out = self.run_chunk(batch)?;
        let mut out_shape = vec![batch];
        out_shape.extend_from_slice(&self.output_shape);
        Tensor::new(out_shape, out)
    }

    fn write_input(&mut self, x: &[f32], batch: usize) {
        self.gpu
            .queue
            .write_buffer(&self.activations[0], 0, bytemuck::cast_slice(x));
        self.loaded = batch;
    }

    /// Runs every step on the `batch` examples in the input buffer.
    fn run_chunk(&mut self, batch: usize) -> Result<Vec<f32>> {
        let out_len = batch * self.output_shape.iter().product::<usize>();
        let gpu = self.gpu;
        let grids = self.prepare(batch)?;
        let scopes = super::Scopes::push(&gpu.device);
        let out_bytes = out_len as u64 * 4;
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
        for (step, grid) in self.steps.iter().zip(&grids) {
            self.encode(&mut encoder, step, *grid);
        }
        encoder.copy_buffer_to_buffer(
            &self.activations[self.result],
            0,
            &self.staging,
            0,
            out_bytes,
        );
        let submission = gpu.queue.submit([encoder.finish()]);
        scopes.pop(OP)?;
        gpu.read_back(OP, &self.staging, out_bytes, submission)
    }

    /// Times every dispatch on its own, on the input last loaded: one submission per step,
    /// waited for. Returns each step's layer (`name (Class)`) and time, in order; a layer with
    /// a fused softmax appears twice.
    pub fn profile_loaded(&mut self) -> Result<Vec<(String, Duration)>> {
        let gpu = self.gpu;
        let grids = self.prepare(self.loaded.max(1))?;
        let mut times = Vec::with_capacity(self.steps.len());
        for (step, grid) in self.steps.iter().zip(&grids) {
            let scopes = super::Scopes::push(&gpu.device);
            let started = Instant::now();
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(OP) });
            self.encode(&mut encoder, step, *grid);
            let submission = gpu.queue.submit([encoder.finish()]);
            scopes.pop(OP)?;
            gpu.wait(OP, submission)?;
            times.push((step.layer.clone(), started.elapsed()));
        }
        Ok(times)
    }

    /// Writes every step's parameters for a chunk of `batch` examples; returns their grids.
    fn prepare(&mut self, batch: usize) -> Result<Vec<[u32; 2]>> {
        let gpu = self.gpu;
        gpu.check_health(OP)?;
        let mut grids = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let (params, grid) = step.op.params(gpu, batch).map_err(|e| Error::ModelConfig {
                layer: step.layer.clone(),
                message: e.to_string(),
            })?;
            gpu.queue.write_buffer(&step.uniform, 0, &params);
            grids.push(grid);
        }
        Ok(grids)
    }

    fn encode(&self, encoder: &mut wgpu::CommandEncoder, step: &Step, grid: [u32; 2]) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(&step.layer),
            timestamp_writes: None,
        });
        pass.set_pipeline(self.gpu.pipeline(step.op.kernel()));
        pass.set_bind_group(0, &step.bind_group, &[]);
        pass.dispatch_workgroups(grid[0], grid[1], 1);
    }
}
