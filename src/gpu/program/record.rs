//! Recording a program: values, weights and dispatches, in the order the layers lower
//! themselves.

use wgpu::util::DeviceExt;

use super::super::kernel::Access;
use super::super::kernels::Kernel;
use super::super::scopes::{ScopeCheck, Scopes};
use super::super::Gpu;
use super::{Binding, ParamFn, Value, Weight};
use crate::error::{Error, Result};

/// A value: where it lives and how it is laid out. Values written into a Concatenate's output
/// are channel slices of its storage: rows of `pitch` floats, starting at `offset`.
#[derive(Debug, Clone)]
pub(super) struct ValueInfo {
    pub(super) storage: usize,
    pub(super) shape: Vec<usize>,
    pub(super) offset: usize,
    pub(super) pitch: usize,
    /// Rows `[top, bottom]` and columns `[left, right]` of zeros around each image that the
    /// shape counts but the storage does not hold: a ZeroPadding2D folded into the
    /// convolution that reads it ([`ProgramBuilder::zero_padded`]).
    pub(super) padding: [[usize; 2]; 2],
}

#[derive(Debug, Clone)]
pub(super) struct StorageInfo {
    /// Floats per example.
    pub(super) per_example: usize,
    /// Model inputs and outputs keep their buffer for the whole program.
    pub(super) pinned: bool,
    pub(super) label: String,
}

pub(super) struct StepSpec {
    pub(super) label: String,
    pub(super) kernel: Kernel,
    pub(super) bindings: Vec<Binding>,
    pub(super) params: ParamFn,
}

/// Records a program; see the module documentation.
pub struct ProgramBuilder<'g> {
    pub(super) gpu: &'g Gpu,
    pub(super) values: Vec<ValueInfo>,
    pub(super) storages: Vec<StorageInfo>,
    pub(super) weights: Vec<wgpu::Buffer>,
    pub(super) weight_bytes: u64,
    pub(super) dummy: Option<Weight>,
    pub(super) steps: Vec<StepSpec>,
    pub(super) label: String,
    /// Model inputs so far (counted, not recounted per input: a model may have thousands).
    pub(super) inputs: usize,
    /// Weight uploads whose error scopes had no answer yet (a browser answers later), with the
    /// layer that uploaded them: [`ProgramBuilder::build_async`] awaits them.
    pub(super) unchecked: Vec<(String, ScopeCheck)>,
    /// The first dispatch whose bindings differ from its kernel's slots: reported by
    /// [`ProgramBuilder::build_async`].
    pub(super) miswired: Option<Error>,
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
            padding: [[0; 2]; 2],
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
            padding: [[0; 2]; 2],
        });
        Ok(Value(self.values.len() - 1))
    }

    /// `of` (dense images `(h, w, c)`) with `padding` zeros around each image that no buffer
    /// holds: its shape is the padded one, and the only kernels that may read it are those
    /// that gather their windows with bounds checks ([`Kernel::gathers_zero_padding`]), which
    /// read the zeros as the window's own padding. A ZeroPadding2D read by one convolution
    /// costs no pass and no buffer this way.
    pub(crate) fn zero_padded(&mut self, of: Value, padding: [[usize; 2]; 2]) -> Result<Value> {
        let info = self.values[of.0].clone();
        let &[h, w, c] = info.shape.as_slice() else {
            return Err(Error::Internal {
                op: "gpu",
                message: format!("cannot zero-pad {:?} as images", info.shape),
            });
        };
        if !self.is_dense(of) {
            return Err(Error::Internal {
                op: "gpu",
                message: "cannot zero-pad a channel slice or a padded value".into(),
            });
        }
        let [[top, bottom], [left, right]] = padding;
        let grown = |x: usize, a: usize, b: usize| {
            x.checked_add(a)
                .and_then(|x| x.checked_add(b))
                .ok_or(Error::Overflow {
                    op: "zero_padding2d",
                    what: "output",
                })
        };
        let shape = vec![grown(h, top, bottom)?, grown(w, left, right)?, c];
        self.values.push(ValueInfo {
            shape,
            padding,
            ..info
        });
        Ok(Value(self.values.len() - 1))
    }

    /// The zeros around each image of `v` that its storage does not hold (see
    /// [`ProgramBuilder::zero_padded`]); all zero for an ordinary value.
    pub(crate) fn padding(&self, v: Value) -> [[usize; 2]; 2] {
        self.values[v.0].padding
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
        info.offset == 0
            && info.pitch == info.shape.last().copied().unwrap_or(1)
            && info.padding == [[0; 2]; 2]
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
        // A zero-padded value (whose zeros no buffer holds) only for kernels that gather.
        let padded = bindings.iter().find(|b| {
            matches!(b, Binding::Read(v) | Binding::Write(v) if self.values[v.0].padding != [[0; 2]; 2])
        });
        if let (Some(b), None) = (padded, &self.miswired) {
            if !kernel.gathers_zero_padding() || matches!(b, Binding::Write(_)) {
                self.miswired = Some(Error::Internal {
                    op: "gpu program",
                    message: format!(
                        "{} binds a zero-padded value it cannot read ({b:?})",
                        kernel.def().name
                    ),
                });
            }
        }
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
}
