//! `wgcnn._wgcnn`: the Python bindings of wgcnn (the `wgcnn` package re-exports everything).
//!
//! - [`load`] reads a `.keras`, legacy `.h5` or architecture-JSON file into a [`PyModel`], whose
//!   `predict` runs on the GPU (wgpu), the fast CPU backend or the CPU reference. The GPU program
//!   compiled by the first `predict` is kept in the object and reused by the next calls.
//! - [`conv2d`] and [`max_pool2d`] run one Keras layer on arrays.
//! - [`adapters`] lists what wgpu sees.
//!
//! The GIL is released while a backend computes. Inputs are numpy arrays (anything
//! `numpy.asarray` takes); float32 C-contiguous arrays are read in place, others are converted
//! first. Outputs are float32 numpy arrays that take over the result's memory.
//!
//! Errors: wgcnn's message, as `ValueError` (bad shapes, configs, weights), `OSError` (files
//! that cannot be read or are not model files), `MemoryError` (the CPU memory limit) or
//! `GpuError`, a `RuntimeError` (no adapter, device errors, device limits).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use numpy::{IntoPyArray, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyMemoryError, PyNotImplementedError, PyOSError,
    PyPermissionError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use wgcnn::model::GpuModel;
use wgcnn::{Activation, Backend, Conv2dSpec, Error, Gpu, Padding, Pool2dSpec, Tensor, TensorView};

create_exception!(
    wgcnn,
    GpuError,
    PyRuntimeError,
    "A GPU failure: no adapter, an unsupported adapter, a device error or device loss, a \
     timeout, or a tensor beyond the device's limits. A subclass of RuntimeError."
);

/// Keras's `predict` default: examples per round when `batch_size` is not given.
const KERAS_BATCH_SIZE: usize = 32;

/// Integers from this magnitude on are not all exact in float32.
const EXACT_F32_INTEGERS: i128 = 1 << 24;

// ---------------------------------------------------------------------------------------------
// Errors

/// A wgcnn error as the Python exception its kind calls for, with wgcnn's message.
fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e.root() {
        Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
            _ => PyOSError::new_err(message),
        },
        Error::Npy { .. } | Error::Image { .. } => PyOSError::new_err(message),
        Error::InvalidConfig { .. }
        | Error::InvalidArgument { .. }
        | Error::EmptyOutput { .. }
        | Error::ShapeMismatch { .. }
        | Error::InputShape { .. }
        | Error::Overflow { .. }
        | Error::DataLength { .. }
        | Error::ModelConfig { .. }
        | Error::ModelWeights { .. } => PyValueError::new_err(message),
        Error::MemoryLimit { .. } => PyMemoryError::new_err(message),
        Error::CannotRun { .. } => PyNotImplementedError::new_err(message),
        Error::NoAdapter { .. }
        | Error::UnsupportedAdapter { .. }
        | Error::RequestDevice(_)
        | Error::LimitExceeded { .. }
        | Error::GpuValidation { .. }
        | Error::GpuOutOfMemory { .. }
        | Error::GpuInternal { .. }
        | Error::DeviceLost { .. }
        | Error::Timeout { .. } => GpuError::new_err(message),
        // Error::Internal (a wgcnn bug) and kinds added later.
        _ => PyRuntimeError::new_err(message),
    }
}

/// [`to_py`] for [`wgcnn::Model::load`]: a file that is not a model file at all (not a zip,
/// HDF5 or JSON file, a corrupt archive, text that is not JSON) is an `OSError`, as a missing
/// one is; a readable file whose model wgcnn cannot use stays a `ValueError`.
fn load_error(path: &Path, e: Error) -> PyErr {
    let unreadable = match e.root() {
        // The file-level errors name the file; layer errors name a layer.
        Error::ModelConfig { layer, message } => {
            *layer == path.display().to_string()
                || (layer == "architecture" && message.starts_with("not valid JSON"))
        }
        _ => false,
    };
    if unreadable {
        PyOSError::new_err(e.to_string())
    } else {
        to_py(e)
    }
}

fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

// ---------------------------------------------------------------------------------------------
// Arguments

/// A backend name: "auto" (the GPU on a hardware adapter, else the fast CPU backend, as the
/// CLI's default), "gpu", "cpu" or "reference".
fn parse_backend(name: &str) -> PyResult<Backend> {
    if name == "auto" {
        return Ok(Backend::auto().backend);
    }
    name.parse().map_err(|_: String| {
        value_error(format!(
            "unknown backend '{name}' (expected auto, gpu, cpu or reference)"
        ))
    })
}

/// Keras's `padding`: `"valid"` or `"same"`, in any case (Keras lowercases it).
fn parse_padding(name: &str) -> PyResult<Padding> {
    name.to_lowercase().parse().map_err(value_error)
}

/// Keras's `activation`: `None` is linear.
fn parse_activation(name: Option<&str>) -> PyResult<Activation> {
    name.map_or(Ok(Activation::Linear), |n| n.parse().map_err(value_error))
}

/// A Keras pair argument (`strides`, `dilation_rate`, `pool_size`): an int for both axes, or a
/// tuple or list of two ints; `None` takes `default`.
fn parse_pair(
    arg: Option<&Bound<'_, PyAny>>,
    name: &str,
    default: [usize; 2],
) -> PyResult<[usize; 2]> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(default);
    };
    let bad = || {
        value_error(format!(
            "`{name}` must be an int or a tuple of 2 non-negative ints; got {}",
            arg.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))
    };
    let one = |v: &Bound<'_, PyAny>| -> PyResult<usize> {
        let n: i64 = v.extract().map_err(|_| bad())?;
        usize::try_from(n).map_err(|_| bad())
    };
    if let Ok(n) = arg.extract::<i64>() {
        let n = usize::try_from(n).map_err(|_| bad())?;
        return Ok([n, n]);
    }
    if arg.is_instance_of::<PyTuple>() || arg.is_instance_of::<PyList>() {
        let items: Vec<Bound<'_, PyAny>> = arg.try_iter()?.collect::<PyResult<_>>()?;
        if let [a, b] = items.as_slice() {
            return Ok([one(a)?, one(b)?]);
        }
    }
    Err(bad())
}

/// `batch_size`: `None` is Keras's 32.
fn parse_batch_size(batch_size: Option<i64>) -> PyResult<usize> {
    match batch_size {
        None => Ok(KERAS_BATCH_SIZE),
        Some(b) if b >= 1 => Ok(usize::try_from(b).unwrap_or(usize::MAX)),
        Some(b) => Err(value_error(format!(
            "batch_size must be at least 1, got {b}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Arrays

/// Copies a float32 C-contiguous array into a tensor (the library's tensors own their data).
fn tensor_from_f32(arr: &Bound<'_, PyArrayDyn<f32>>) -> PyResult<Tensor> {
    let shape = arr.shape().to_vec();
    let view = arr
        .try_readonly()
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let data = view
        .as_slice()
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?
        .to_vec();
    Tensor::new(shape, data).map_err(to_py)
}

/// `obj` as a tensor (a copy: the library's tensors own their data).
fn to_tensor(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
    integer: bool,
) -> PyResult<Tensor> {
    tensor_from_f32(&to_f32_array(py, obj, what, integer)?)
}

/// `obj` as a float32 C-contiguous array: itself if it is one already (no copy), else what
/// numpy converts it to. With `integer` (a model input declared as an integer: token ids),
/// integer arrays must hold values float32 represents exactly (|v| ≤ 2^24).
fn to_f32_array<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    what: &str,
    integer: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    if let Ok(arr) = obj.cast::<PyArrayDyn<f32>>() {
        if arr.is_c_contiguous() {
            return Ok(arr.clone());
        }
    }
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (obj,))?;
    let dtype = arr.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "b" | "i" | "u" | "f") {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected numbers convertible to float32, got dtype {}",
            dtype.str()?
        )));
    }
    if integer && matches!(kind.as_str(), "i" | "u") && arr.getattr("size")?.extract::<usize>()? > 0
    {
        for end in ["min", "max"] {
            let v: i128 = arr.call_method0(end)?.extract()?;
            if !(-EXACT_F32_INTEGERS..=EXACT_F32_INTEGERS).contains(&v) {
                return Err(value_error(format!(
                    "{what}: integer {v} is beyond ±2^24, which float32 cannot hold exactly"
                )));
            }
        }
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float32")?)?;
    let converted = np.call_method("ascontiguousarray", (arr,), Some(&kwargs))?;
    converted
        .cast_into::<PyArrayDyn<f32>>()
        .map_err(|e| PyRuntimeError::new_err(format!("{what}: {e}")))
}

/// A result as a float32 numpy array that owns the tensor's buffer (no copy).
fn to_numpy(py: Python<'_>, t: Tensor) -> PyResult<Bound<'_, PyAny>> {
    let shape = t.shape().to_vec();
    let flat = t.into_data().into_pyarray(py);
    Ok(flat.reshape(shape)?.into_any())
}

// ---------------------------------------------------------------------------------------------
// Models

/// A GPU program compiled for up to `max_batch` examples per round.
struct Compiled {
    max_batch: usize,
    program: GpuModel<'static>,
}

/// A Keras model loaded by wgcnn. Create one with `wgcnn.load(path)`.
#[pyclass(module = "wgcnn", name = "Model", frozen)]
struct PyModel {
    model: wgcnn::Model,
    /// The GPU program of the last GPU `predict`, kept for the next ones.
    gpu: Mutex<Option<Compiled>>,
    compilations: AtomicUsize,
}

/// A per-example shape as Keras writes it, with the batch dimension `None` first.
fn keras_shape<'py>(py: Python<'py>, shape: &[usize]) -> PyResult<Bound<'py, PyTuple>> {
    let dims: Vec<Option<usize>> = std::iter::once(None)
        .chain(shape.iter().map(|&d| Some(d)))
        .collect();
    PyTuple::new(py, dims)
}

impl PyModel {
    fn gpu_slot(&self) -> MutexGuard<'_, Option<Compiled>> {
        self.gpu.lock().unwrap_or_else(|poisoned| {
            // A panic during a GPU run: do not trust that program again.
            self.gpu.clear_poison();
            let mut slot = poisoned.into_inner();
            *slot = None;
            slot
        })
    }

    /// The forward pass, without the GIL, on the numpy arrays' own memory: the GPU uploads
    /// straight from it; the CPU backends take tensors that own their data, so there the
    /// input is copied once.
    fn run(
        &self,
        backend: Backend,
        per_round: usize,
        inputs: &[TensorView<'_>],
    ) -> wgcnn::Result<Vec<Tensor>> {
        let shapes: Vec<&[usize]> = inputs.iter().map(TensorView::shape).collect();
        // Bad input is reported before any device is opened.
        let batch = self.model.check_inputs(&shapes)?;
        if backend != Backend::Gpu {
            let owned: Vec<Tensor> = inputs.iter().map(TensorView::to_tensor).collect();
            let refs: Vec<&Tensor> = owned.iter().collect();
            return self.model.run_many(backend, &refs);
        }
        let gpu = Gpu::shared()?;
        let wanted = per_round.min(batch);
        let mut slot = self.gpu_slot();
        // The program is reused when its rounds are large enough for this input (or as large as
        // batch_size) and no larger than batch_size allows.
        let fits = |c: &Compiled| c.max_batch >= wanted && c.max_batch <= per_round;
        if !slot.as_ref().is_some_and(fits) {
            // Free the old program's buffers before allocating the new one's.
            *slot = None;
            let program = self.model.compile(gpu, wanted)?;
            self.compilations.fetch_add(1, Ordering::Relaxed);
            *slot = Some(Compiled {
                max_batch: wanted,
                program,
            });
        }
        let Some(compiled) = slot.as_mut() else {
            return Err(Error::Internal {
                op: "predict",
                message: "the compiled program vanished".into(),
            });
        };
        let result = compiled.program.run_views(inputs);
        if result.is_err() {
            // After a device error the program's state is unknown: compile afresh next time.
            *slot = None;
        }
        result
    }

    /// The forward pass on arrays in memory (`predict`'s common case).
    fn predict_arrays<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        batch_size: Option<i64>,
        backend: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let backend = parse_backend(backend)?;
        let per_round = parse_batch_size(batch_size)?;
        let arrays = self.inputs(py, x)?;
        // Read-only borrows keep other Rust code from writing the arrays while the backend
        // reads them without the GIL (as with any extension that releases it, Python code
        // writing to an input array meanwhile would race).
        let borrows = arrays
            .iter()
            .map(|a| a.try_readonly())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let shapes: Vec<&[usize]> = borrows.iter().map(|b| b.shape()).collect();
        let data = borrows
            .iter()
            .map(|b| b.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let views = shapes
            .iter()
            .zip(&data)
            .map(|(&shape, &values)| TensorView::new(shape, values))
            .collect::<wgcnn::Result<Vec<_>>>()
            .map_err(to_py)?;
        let outputs = py
            .detach(|| self.run(backend, per_round, &views))
            .map_err(to_py)?;
        drop(borrows);
        let mut arrays = outputs
            .into_iter()
            .map(|t| to_numpy(py, t))
            .collect::<PyResult<Vec<_>>>()?;
        if arrays.len() == 1 {
            return Ok(arrays.remove(0));
        }
        Ok(PyList::new(py, arrays)?.into_any())
    }

    /// `x` as one float32 C-contiguous array per model input, in the model's order.
    fn inputs<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyArrayDyn<f32>>>> {
        let specs = self.model.inputs();
        let names: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
        let listed = || names.join(", ");
        let items: Vec<Bound<'_, PyAny>> = if let Ok(dict) = x.cast::<PyDict>() {
            // A set: checking each key against a list is quadratic in a model's inputs.
            let known_names: std::collections::HashSet<&str> = names.iter().copied().collect();
            for key in dict.keys() {
                let known = key
                    .extract::<String>()
                    .is_ok_and(|k| known_names.contains(k.as_str()));
                if !known {
                    return Err(value_error(format!(
                        "unknown model input {} (the inputs are: {})",
                        key.repr()?,
                        listed()
                    )));
                }
            }
            names
                .iter()
                .map(|&name| {
                    dict.get_item(name)?
                        .ok_or_else(|| value_error(format!("input '{name}' is missing")))
                })
                .collect::<PyResult<_>>()?
        } else if x.is_instance_of::<PyList>() || x.is_instance_of::<PyTuple>() {
            let items: Vec<Bound<'_, PyAny>> = x.try_iter()?.collect::<PyResult<_>>()?;
            let one_array = items.len() == 1 && items[0].cast::<numpy::PyUntypedArray>().is_ok();
            if names.len() == 1 && !one_array {
                // A nested list is the data of the one input.
                vec![x.clone()]
            } else if items.len() == names.len() {
                items
            } else {
                return Err(value_error(format!(
                    "the model has {} inputs ({}) but {} arrays were given",
                    names.len(),
                    listed(),
                    items.len()
                )));
            }
        } else if names.len() == 1 {
            vec![x.clone()]
        } else {
            return Err(value_error(format!(
                "the model has {} inputs ({}): pass a list of arrays in this order, or a dict \
                 by input name",
                names.len(),
                listed()
            )));
        };
        items
            .iter()
            .zip(&specs)
            .map(|(item, (name, spec))| {
                to_f32_array(py, item, &format!("input '{name}'"), spec.is_integer())
            })
            .collect()
    }
}

#[pymethods]
impl PyModel {
    /// The model's name.
    #[getter]
    fn name(&self) -> &str {
        self.model.name()
    }

    /// The names of the input layers, in the order `predict` takes a list.
    #[getter]
    fn input_names(&self) -> Vec<String> {
        self.model
            .inputs()
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// The names of the layers producing the outputs, in the order `predict` returns them.
    #[getter]
    fn output_names(&self) -> Vec<String> {
        self.model
            .output_names()
            .iter()
            .map(|n| n.to_string())
            .collect()
    }

    /// The input shapes as Keras writes them, batch first as None: `[(None, 32, 32, 3)]`.
    #[getter]
    fn input_shapes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.model
            .input_shapes()
            .iter()
            .map(|s| keras_shape(py, s))
            .collect()
    }

    /// The output shapes as Keras writes them: `[(None, 10)]`.
    #[getter]
    fn output_shapes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.model
            .output_shapes()
            .iter()
            .map(|s| keras_shape(py, s))
            .collect()
    }

    /// The inputs' Keras dtypes (`"float32"`, `"int32"` for token ids, ...).
    #[getter]
    fn input_dtypes(&self) -> Vec<String> {
        self.model
            .inputs()
            .iter()
            .map(|(_, s)| s.dtype.clone())
            .collect()
    }

    /// Whether every layer has its weights (an architecture JSON has none: summary only).
    #[getter]
    fn has_weights(&self) -> bool {
        self.model.has_weights()
    }

    /// How many times `predict` compiled this model for the GPU (0 before the first GPU
    /// `predict`; it grows again only when a call needs larger rounds or a smaller
    /// `batch_size`, or after a GPU error).
    #[getter]
    fn gpu_compilations(&self) -> usize {
        self.compilations.load(Ordering::Relaxed)
    }

    /// The summary Keras prints (`model.summary()`), as a string.
    ///
    /// `line_length` defaults to Keras's: min(88, columns − 4) for a sequential-like model,
    /// min(108, columns − 4) otherwise, with the terminal's columns as
    /// `shutil.get_terminal_size()` finds them (80 when not a terminal: 76 wide). With
    /// `json=True`, the summary as JSON text instead (layers, shapes, parameter counts).
    #[pyo3(signature = (line_length=None, json=false))]
    fn summary(&self, py: Python<'_>, line_length: Option<usize>, json: bool) -> PyResult<String> {
        let summary = self.model.summary();
        if json {
            return Ok(summary.to_json());
        }
        let width = match line_length {
            Some(w) => w,
            None => {
                let columns: usize = py
                    .import("shutil")?
                    .call_method0("get_terminal_size")?
                    .getattr("columns")?
                    .extract()?;
                summary.line_length_for(columns)
            }
        };
        Ok(summary.table_with_line_length(width))
    }

    /// The forward pass, like Keras's `model.predict`.
    ///
    /// `x` is `(batch, *input_shape)`; a model with several inputs takes a list (in
    /// `input_names` order) or a dict by input name. Integer model inputs (token ids) take int
    /// arrays with values within ±2**24. `batch_size` is the most examples per GPU round
    /// (Keras's default: 32); the CPU backends take the whole input at once. `backend` is
    /// "auto" (the GPU on a hardware adapter, else "cpu"), "gpu", "cpu" or "reference".
    /// Returns a float32 array, or a list of them (in
    /// `output_names` order) for several outputs. The GPU program compiled by the first GPU
    /// call is kept and reused (see `gpu_compilations`).
    ///
    /// `x` may also be a stream of batches (a generator or any other iterable, a `tf.data`
    /// dataset, a Keras `PyDataset`) or a memory-mapped array (`np.load(path, mmap_mode="r")`):
    /// then it runs batch by batch with one batch in memory, with a progress bar (`verbose`),
    /// at most `steps` batches, and the outputs streamed to `out` (a `.npy` or `.npz` file)
    /// when given. That loop is `wgcnn/_stream.py`.
    #[pyo3(signature = (x, batch_size=None, backend="auto", verbose=None, steps=None, out=None))]
    #[allow(clippy::too_many_arguments)]
    fn predict<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        batch_size: Option<i64>,
        backend: &str,
        verbose: Option<&Bound<'py, PyAny>>,
        steps: Option<&Bound<'py, PyAny>>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // "auto" shows progress for streams only: an array in memory runs in one call.
        let verbose = verbose.filter(|v| !v.is_none() && !v.eq("auto").unwrap_or(false));
        let steps = steps.filter(|v| !v.is_none());
        let out = out.filter(|v| !v.is_none());
        // The common case, a whole array in memory, goes straight to the backend; anything
        // else (streams, memory maps, several inputs, files to write) through the Python loop,
        // which decides.
        // (A memory map is an ndarray subclass: streamed.)
        let in_memory = x.is_exact_instance(&py.import("numpy")?.getattr("ndarray")?);
        if in_memory && verbose.is_none() && steps.is_none() && out.is_none() {
            return slf.get().predict_arrays(py, x, batch_size, backend);
        }
        py.import("wgcnn._stream")?.call_method1(
            "predict",
            (slf, x, batch_size, backend, verbose, steps, out),
        )
    }

    /// `predict` on arrays in memory, in one call (what the streaming loop runs per batch).
    #[pyo3(signature = (x, batch_size=None, backend="auto"))]
    fn _predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        batch_size: Option<i64>,
        backend: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.predict_arrays(py, x, batch_size, backend)
    }

    /// The outputs' names as safe file stems, unique up to case: the `.npz` members `predict`
    /// writes (the CLI's `--output-dir` and `.npz` names, `wgcnn::names`).
    #[getter]
    fn _output_stems(&self) -> Vec<String> {
        wgcnn::names::unique_file_stems(&self.model.output_names())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let shapes = |s: Vec<Vec<usize>>| -> PyResult<String> {
            let texts = s
                .iter()
                .map(|s| Ok(keras_shape(py, s)?.repr()?.to_string()))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(format!("[{}]", texts.join(", ")))
        };
        Ok(format!(
            "<wgcnn.Model '{}' inputs={} outputs={}>",
            self.model.name(),
            shapes(self.model.input_shapes())?,
            shapes(self.model.output_shapes())?
        ))
    }
}

/// Loads a Keras model: a `.keras` file, a legacy Keras 2 `.h5` file, or an architecture JSON
/// (`model.to_json()`, no weights: enough for `summary`), from a path or from the file's bytes
/// (a model held in memory or passed through Ray's object store).
#[pyfunction]
fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<PyModel> {
    let model = if let Ok(bytes) = source.cast::<PyBytes>() {
        let bytes = bytes.as_bytes().to_vec();
        let label = PathBuf::from("<bytes>");
        py.detach(|| wgcnn::Model::from_bytes("<bytes>", bytes))
            .map_err(|e| load_error(&label, e))?
    } else {
        let path: PathBuf = source.extract()?;
        py.detach(|| wgcnn::Model::load(&path))
            .map_err(|e| load_error(&path, e))?
    };
    Ok(PyModel {
        model,
        gpu: Mutex::new(None),
        compilations: AtomicUsize::new(0),
    })
}

// ---------------------------------------------------------------------------------------------
// Single ops

/// Keras `Conv2D`: activation(conv(x, kernel) + bias).
///
/// `x` is NHWC `(batch, height, width, in_channels)`, `kernel` HWIO
/// `(kh, kw, in_channels / groups, filters)` as Keras stores it, `bias` `(filters,)` or None
/// (no bias). `strides` and `dilation_rate` are an int or `(rows, cols)`; `padding` is "valid"
/// or "same"; `activation` a Keras activation name or None (linear); `backend` "gpu", "cpu"
/// or "reference". Returns `(batch, out_height, out_width, filters)`, float32.
#[pyfunction]
#[pyo3(
    signature = (x, kernel, bias=None, strides=None, padding="valid", dilation_rate=None, groups=1, activation=None, backend="auto"),
    text_signature = "(x, kernel, bias=None, strides=(1, 1), padding='valid', dilation_rate=(1, 1), groups=1, activation=None, backend='auto')"
)]
#[allow(clippy::too_many_arguments)]
fn conv2d<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    kernel: &Bound<'py, PyAny>,
    bias: Option<&Bound<'py, PyAny>>,
    strides: Option<&Bound<'py, PyAny>>,
    padding: &str,
    dilation_rate: Option<&Bound<'py, PyAny>>,
    groups: usize,
    activation: Option<&str>,
    backend: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let strides = parse_pair(strides, "strides", [1, 1])?;
    let dilation = parse_pair(dilation_rate, "dilation_rate", [1, 1])?;
    let padding = parse_padding(padding)?;
    let activation = parse_activation(activation)?;
    let backend = parse_backend(backend)?;
    let x = to_tensor(py, x, "x", false)?;
    let k = to_tensor(py, kernel, "kernel", false)?;
    let b = bias
        .filter(|b| !b.is_none())
        .map(|b| to_tensor(py, b, "bias", false))
        .transpose()?;
    let [kh, kw, _, filters] = *k.shape() else {
        return Err(to_py(Error::ShapeMismatch {
            op: "conv2d",
            what: "kernel",
            expected: "rank 4 (kh, kw, in_channels / groups, filters)".into(),
            actual: k.shape().to_vec(),
        }));
    };
    let spec = Conv2dSpec::new(filters, [kh, kw])
        .strides(strides)
        .padding(padding)
        .dilation(dilation)
        .groups(groups)
        .use_bias(b.is_some())
        .activation(activation);
    let y = py
        .detach(|| -> wgcnn::Result<Tensor> {
            // Bad shapes or configs are reported before any device is opened.
            spec.check(x.shape(), k.shape(), b.as_ref().map(Tensor::shape))?;
            match backend {
                Backend::Gpu => Gpu::shared()?.conv2d(&spec, &x, &k, b.as_ref()),
                Backend::Cpu => wgcnn::cpu::conv2d(&spec, &x, &k, b.as_ref()),
                Backend::Reference => wgcnn::reference::conv2d(&spec, &x, &k, b.as_ref()),
            }
        })
        .map_err(to_py)?;
    to_numpy(py, y)
}

/// Keras `MaxPooling2D`; with "same" padding, padded cells never win the max.
///
/// `x` is NHWC; `pool_size` and `strides` are an int or `(rows, cols)`, `strides` None meaning
/// the pool size; `padding` is "valid" or "same"; `backend` "auto", "gpu", "cpu" or
/// "reference".
/// Returns `(batch, out_height, out_width, channels)`, float32.
#[pyfunction]
#[pyo3(
    signature = (x, pool_size=None, strides=None, padding="valid", backend="auto"),
    text_signature = "(x, pool_size=(2, 2), strides=None, padding='valid', backend='auto')"
)]
fn max_pool2d<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    pool_size: Option<&Bound<'py, PyAny>>,
    strides: Option<&Bound<'py, PyAny>>,
    padding: &str,
    backend: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let pool_size = parse_pair(pool_size, "pool_size", [2, 2])?;
    let strides = parse_pair(strides, "strides", pool_size)?;
    let padding = parse_padding(padding)?;
    let backend = parse_backend(backend)?;
    let x = to_tensor(py, x, "x", false)?;
    let spec = Pool2dSpec::new(pool_size).strides(strides).padding(padding);
    let y = py
        .detach(|| -> wgcnn::Result<Tensor> {
            spec.check(x.shape())?;
            match backend {
                Backend::Gpu => Gpu::shared()?.max_pool2d(&spec, &x),
                Backend::Cpu => wgcnn::cpu::max_pool2d(&spec, &x),
                Backend::Reference => wgcnn::reference::max_pool2d(&spec, &x),
            }
        })
        .map_err(to_py)?;
    to_numpy(py, y)
}

/// Every adapter wgpu sees for the enabled backends (`WGPU_BACKEND`), as dicts; `selected`
/// marks the one the GPU backend uses.
#[pyfunction]
fn adapters(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let found = py.detach(wgcnn::gpu::list_adapters);
    let list = PyList::empty(py);
    for a in found {
        let d = PyDict::new(py);
        d.set_item("name", a.name)?;
        d.set_item("backend", a.backend)?;
        d.set_item("device_type", a.device_type)?;
        d.set_item("driver", a.driver)?;
        d.set_item("driver_info", a.driver_info)?;
        d.set_item("pci_bus_id", a.pci_bus_id)?;
        d.set_item("compute", a.compute)?;
        d.set_item("unmet", a.unmet)?;
        d.set_item("selected", a.selected)?;
        list.append(d)?;
    }
    Ok(list)
}

/// The adapter the GPU backend runs on (opened on first use and kept for the process), as
/// `adapters()` describes it; raises GpuError when there is none.
#[pyfunction]
fn gpu_adapter(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = py
        .detach(|| Gpu::shared().map(|g| g.adapter_info().clone()))
        .map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("name", info.name)?;
    d.set_item("backend", format!("{:?}", info.backend))?;
    d.set_item("device_type", format!("{:?}", info.device_type))?;
    d.set_item("driver", info.driver)?;
    d.set_item("driver_info", info.driver_info)?;
    d.set_item("pci_bus_id", info.device_pci_bus_id)?;
    Ok(d)
}

/// wgcnn's Python bindings (the `wgcnn` package re-exports them).
#[pymodule]
fn _wgcnn(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(conv2d, m)?)?;
    m.add_function(wrap_pyfunction!(max_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(adapters, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_adapter, m)?)?;
    m.add("GpuError", m.py().get_type::<GpuError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
