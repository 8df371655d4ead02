//! wgcnn for JavaScript, compiled to `wasm32-unknown-unknown`: load a `.keras`, legacy `.h5`
//! or architecture-JSON file, print Keras's summary and the derivation of each number, and run
//! the forward pass on the browser's WebGPU (the WGSL kernels the native build runs) or on the
//! plain-loop CPU reference.
//!
//! wasm-bindgen makes this the low-level module `pkg/wgcnn_wasm.js`; `web/static/wgcnn.js`
//! wraps it into the documented API (`wgcnn.load`, `m.predict`, ...). Every fallible call throws (or
//! rejects with) a JavaScript `Error` carrying wgcnn's message; nothing here panics on user
//! input, and a panic would still reach the console instead of vanishing.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Array, Float32Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_time::Instant;
use wgcnn::model::{Backend, GpuModel, Model, Sequential, StepLayers};
use wgcnn::seeds::{seed_examples, SeedLayer};
use wgcnn::{Gpu, Tensor};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!("wgcnn panicked: {info}"))
    }));
}

/// wgcnn's version (the crate's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn js_error(message: impl std::fmt::Display) -> JsValue {
    JsError::new(&message.to_string()).into()
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a property of a plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

fn shape_array(shape: impl IntoIterator<Item = Option<usize>>) -> Array {
    shape
        .into_iter()
        .map(|d| d.map_or(JsValue::NULL, |d| JsValue::from_f64(d as f64)))
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

// ---------------------------------------------------------------------------------------------
// The device: one per page, opened on first use.

thread_local! {
    /// Leaked on purpose: compiled models borrow the device for as long as the page lives.
    static GPU: Cell<Option<&'static Gpu>> = const { Cell::new(None) };
}

/// Whether `navigator.gpu` exists: without it wgpu would look for WebGL, which has no compute
/// shaders, and fail with a less helpful message.
fn has_webgpu() -> bool {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    !navigator.is_undefined()
        && Reflect::get(&navigator, &"gpu".into()).is_ok_and(|gpu| !gpu.is_undefined())
}

const NO_WEBGPU: &str = "this browser offers no WebGPU (navigator.gpu is missing): use \
    Chrome or Edge 113+, Safari 26 or Firefox 141+ on Windows, over https or localhost; the \
    summary, the explanation and the CPU reference work without it";

async fn gpu() -> Result<&'static Gpu, JsValue> {
    if let Some(gpu) = GPU.get() {
        return Ok(gpu);
    }
    if !has_webgpu() {
        return Err(js_error(NO_WEBGPU));
    }
    let opened = Gpu::new_async().await.map_err(js_error)?;
    // Two first calls may race: the first device stored wins, the other stays unused.
    Ok(GPU.get().unwrap_or_else(|| {
        let gpu: &'static Gpu = Box::leak(Box::new(opened));
        GPU.set(Some(gpu));
        gpu
    }))
}

/// What wgpu says of the device's adapter: `{name, driver, driverInfo, deviceType, deviceTime}`
/// (browsers may leave the names empty, a privacy choice; `wgcnn.js` then asks the browser).
fn adapter_object(gpu: &Gpu) -> Object {
    let info = gpu.adapter_info();
    let o = Object::new();
    set(&o, "name", info.name.as_str());
    set(&o, "driver", info.driver.as_str());
    set(&o, "driverInfo", info.driver_info.as_str());
    set(
        &o,
        "deviceType",
        format!("{:?}", info.device_type).to_lowercase(),
    );
    set(
        &o,
        "deviceTime",
        gpu.device_timing() == wgcnn::gpu::DeviceTiming::Timestamps,
    );
    o
}

/// The WebGPU adapter the page runs on as `{name, driver, driverInfo, deviceType, deviceTime}`
/// (`deviceTime`: whether it has timestamp queries); `null` where the browser has no WebGPU
/// or no adapter wgcnn can use (`adapterError()` then says why).
#[wasm_bindgen]
pub async fn adapter() -> JsValue {
    match gpu().await {
        Ok(gpu) => adapter_object(gpu).into(),
        Err(_) => JsValue::NULL,
    }
}

/// Why `adapter()` gave `null`: the message opening the device gave, or `null` if it opened.
#[wasm_bindgen(js_name = adapterError)]
pub async fn adapter_error() -> JsValue {
    match gpu().await {
        Ok(_) => JsValue::NULL,
        Err(e) => Reflect::get(&e, &"message".into()).unwrap_or(e),
    }
}

/// Compiles every WGSL kernel wgcnn has on the page's device (a model compiles only those it
/// uses): resolves to `[{name, error}]`, `error` null where the browser's shader compiler (Tint,
/// in Chrome) accepted it.
#[wasm_bindgen(js_name = checkKernels)]
pub async fn check_kernels() -> Result<Array, JsValue> {
    let gpu = gpu().await?;
    Ok(gpu
        .check_kernels_async()
        .await
        .into_iter()
        .map(|(name, error)| {
            let o = Object::new();
            set(&o, "name", name);
            set(&o, "error", error.map_or(JsValue::NULL, JsValue::from));
            JsValue::from(o)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Arrays.

/// Reads a `.npy` file of float32, or of integers (token ids, converted exactly; beyond ±2^24
/// is an error), as `{name, data: Float32Array, shape}`; `name` labels errors.
#[wasm_bindgen(js_name = readNpy)]
pub fn read_npy(bytes: &[u8], name: &str) -> Result<JsValue, JsValue> {
    let t = wgcnn::npy::parse_npy_input(bytes, name, true).map_err(js_error)?;
    Ok(tensor_object(name, &t))
}

/// How far `actual` is from `expected` (both `{data, shape}`) against
/// `|actual − expected| ≤ atol + rtol·|expected|` (NaN matches NaN): `{maxAbs, maxRel, beyond,
/// count, allClose, worst: {index, actual, expected} | null}`, as the CLI's `run --compare`.
#[wasm_bindgen]
pub fn compare(
    actual: JsValue,
    expected: JsValue,
    rtol: f64,
    atol: f64,
) -> Result<Object, JsValue> {
    let a = read_tensor(&actual, "actual")?;
    let e = read_tensor(&expected, "expected")?;
    if !(rtol >= 0.0 && atol >= 0.0) {
        return Err(js_error("rtol and atol must be numbers ≥ 0"));
    }
    let c = a.compare(&e, rtol, atol).map_err(|_| {
        js_error(format!(
            "the expected array has shape {:?}, but the output has shape {:?}",
            e.shape(),
            a.shape()
        ))
    })?;
    let o = Object::new();
    set(&o, "maxAbs", c.max_abs);
    set(&o, "maxRel", c.max_rel);
    set(&o, "beyond", c.beyond as f64);
    set(&o, "count", a.data().len() as f64);
    set(&o, "allClose", c.all_close());
    let worst = c.worst.map_or(JsValue::NULL, |w| {
        let o = Object::new();
        set(&o, "index", shape_array(w.index.into_iter().map(Some)));
        set(&o, "actual", w.actual);
        set(&o, "expected", w.expected);
        o.into()
    });
    set(&o, "worst", worst);
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Models.

/// A loaded model. Cheap to share: `predict` and `bench` keep what they compiled for the GPU.
#[wasm_bindgen(js_name = Model)]
pub struct JsModel {
    inner: Rc<Inner>,
}

struct Inner {
    model: Model,
    /// The model compiled for the page's device, for up to its chunk size examples per run;
    /// taken out while a run uses it (a second concurrent run compiles its own).
    compiled: RefCell<Option<GpuModel<'static>>>,
}

impl JsModel {
    fn new(model: Model) -> Self {
        Self {
            inner: Rc::new(Inner {
                model,
                compiled: RefCell::new(None),
            }),
        }
    }
}

/// Reads a model from the bytes of a `.keras`, legacy `.h5` or architecture-JSON file; `name`
/// (a file name) labels errors. With `synthetic_weights`, every layer gets deterministic
/// synthetic weights (the CLI's `--synthetic-weights`): what an architecture JSON needs to run.
#[wasm_bindgen]
pub fn load(bytes: Vec<u8>, name: &str, synthetic_weights: bool) -> Result<JsModel, JsValue> {
    let mut model = Model::from_bytes(name, bytes).map_err(js_error)?;
    if synthetic_weights {
        model
            .fill_synthetic_weights()
            .map_err(|e| js_error(format!("{name}: {e}")))?;
    }
    Ok(JsModel::new(model))
}

/// The worked examples of the documents wgcnn grew from (Keras tutorials on Conv2D and
/// MaxPooling2D shapes), as `[{index, description}]`; `example(index)` builds one.
#[wasm_bindgen]
pub fn examples() -> Array {
    seed_examples()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let o = Object::new();
            set(&o, "index", i as f64);
            set(&o, "description", e.source);
            JsValue::from(o)
        })
        .collect()
}

/// Seed example `index` as a Sequential model with synthetic weights.
#[wasm_bindgen]
pub fn example(index: usize) -> Result<JsModel, JsValue> {
    let examples = seed_examples();
    let e = examples
        .get(index)
        .ok_or_else(|| js_error(format!("there are {} examples", examples.len())))?;
    let mut model = e
        .steps
        .iter()
        .fold(Sequential::new(e.input), |m, step| match step.layer {
            SeedLayer::Conv2d(spec) => m.layer(wgcnn::layers::Conv2d::new(spec)),
            SeedLayer::MaxPool2d(spec) => m.layer(wgcnn::layers::MaxPooling2d(spec)),
        })
        .build()
        .map_err(js_error)?;
    model.fill_synthetic_weights().map_err(js_error)?;
    Ok(JsModel::new(model))
}

/// What `predict` runs on.
#[derive(Clone, Copy)]
enum On {
    WebGpu,
    Reference,
}

fn backend(name: &str) -> Result<On, JsValue> {
    match name {
        "webgpu" | "gpu" => Ok(On::WebGpu),
        "reference" | "cpu" => Ok(On::Reference),
        other => Err(js_error(format!(
            "backend '{other}' is not one of 'webgpu' and 'reference'"
        ))),
    }
}

/// A JavaScript shape (`[2, 32, 32, 3]`) as sizes; anything else is a clear error.
fn read_shape(value: &JsValue, what: &str) -> Result<Vec<usize>, JsValue> {
    if !Array::is_array(value) {
        return Err(js_error(format!(
            "{what}: shape must be an array of sizes, e.g. [1, 32, 32, 3]"
        )));
    }
    Array::from(value)
        .iter()
        .map(|d| match d.as_f64() {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= (1u64 << 53) as f64 => Ok(x as usize),
            _ => Err(js_error(format!(
                "{what}: shape holds {d:?}, not a size (a whole number ≥ 0)"
            ))),
        })
        .collect()
}

/// `{data, shape}` (data: any typed array or array of numbers) as a tensor.
fn read_tensor(value: &JsValue, what: &str) -> Result<Tensor, JsValue> {
    if !value.is_object() {
        return Err(js_error(format!("{what}: expected {{data, shape}}")));
    }
    let shape = read_shape(&Reflect::get(value, &"shape".into())?, what)?;
    let data = Reflect::get(value, &"data".into())?;
    let length = if data.is_object() {
        Reflect::get(&data, &"length".into())?.as_f64()
    } else {
        None
    };
    // Checked here: a Float32Array of a bad length would throw past the Rust frames.
    if !length.is_some_and(|n| n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)) {
        return Err(js_error(format!(
            "{what}: data must be a Float32Array, an Int32Array or an array of numbers"
        )));
    }
    // Converts any typed array or array of numbers (as JavaScript's Float32Array.from does).
    let data = Float32Array::new(&data).to_vec();
    Tensor::new(shape, data).map_err(|e| js_error(format!("{what}: {e}")))
}

fn tensor_object(name: &str, t: &Tensor) -> JsValue {
    let o = Object::new();
    set(&o, "name", name);
    set(&o, "data", Float32Array::from(t.data()));
    set(&o, "shape", shape_array(t.shape().iter().map(|&d| Some(d))));
    o.into()
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// The model's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.model.name().to_string()
    }

    /// Keras's `model.summary()` table as printed on a terminal `columns` wide (80, as
    /// printed to a file, when not given): what the CLI's `summary` prints.
    pub fn summary(&self, columns: Option<usize>) -> String {
        let summary = self.inner.model.summary();
        let width = summary.line_length_for(columns.unwrap_or(80));
        summary.table_with_line_length(width)
    }

    /// Each layer's output shape and parameter count with the formula that gives it: the
    /// CLI's `summary --explain`.
    pub fn explain(&self) -> String {
        self.inner.model.summary().explained()
    }

    /// The summary as JSON (the CLI's `summary --json`).
    #[wasm_bindgen(js_name = summaryJson)]
    pub fn summary_json(&self) -> String {
        self.inner.model.summary().to_json()
    }

    /// `[{name, shape, dtype}]`, the shape starting with `null` for the batch.
    #[wasm_bindgen(getter)]
    pub fn inputs(&self) -> Array {
        self.inner
            .model
            .inputs()
            .into_iter()
            .map(|(name, spec)| {
                let o = Object::new();
                set(&o, "name", name);
                let shape = std::iter::once(None).chain(spec.shape.iter().map(|&d| Some(d)));
                set(&o, "shape", shape_array(shape));
                set(&o, "dtype", spec.dtype.as_str());
                JsValue::from(o)
            })
            .collect()
    }

    /// `[{name, shape, dtype}]` in the model's output order, the shape starting with `null`.
    #[wasm_bindgen(getter)]
    pub fn outputs(&self) -> Array {
        let model = &self.inner.model;
        model
            .output_names()
            .into_iter()
            .zip(model.output_shapes())
            .map(|(name, shape)| {
                let o = Object::new();
                set(&o, "name", name);
                let shape = std::iter::once(None).chain(shape.into_iter().map(Some));
                set(&o, "shape", shape_array(shape));
                set(&o, "dtype", "float32");
                JsValue::from(o)
            })
            .collect()
    }

    /// Whether the file carried weights (an architecture JSON does not).
    #[wasm_bindgen(getter, js_name = hasWeights)]
    pub fn has_weights(&self) -> bool {
        self.inner.model.has_weights()
    }

    /// The layers wgcnn describes but cannot compute (`[]` when the model runs).
    #[wasm_bindgen(getter, js_name = cannotRun)]
    pub fn cannot_run(&self) -> Array {
        self.inner
            .model
            .layers_that_cannot_run()
            .into_iter()
            .map(JsValue::from)
            .collect()
    }

    /// Deterministic synthetic inputs for `batch` examples, in the model's input order
    /// (`[{name, data, shape}]`): uniform in [-1, 1), integers in [0, 10) for integer inputs.
    #[wasm_bindgen(js_name = syntheticInputs)]
    pub fn synthetic_inputs(&self, batch: usize) -> Result<Array, JsValue> {
        synthetic(&self.inner.model, batch.max(1))
            .map(|xs| xs.iter().map(|(name, t)| tensor_object(name, t)).collect())
    }

    /// Runs the forward pass on `inputs` (`[{data, shape}]` in the model's input order, the
    /// shapes with the batch first) on `backend` (`"webgpu"` or `"reference"`); resolves to
    /// `[{name, data, shape}]` in the model's output order.
    pub fn predict(&self, inputs: Array, backend_name: &str) -> Result<Promise, JsValue> {
        let on = backend(backend_name)?;
        let model = &self.inner.model;
        let names: Vec<String> = model.inputs().iter().map(|(n, _)| n.to_string()).collect();
        let tensors: Vec<Tensor> = inputs
            .iter()
            .enumerate()
            .map(|(k, x)| {
                let what = names.get(k).map_or("input", String::as_str);
                read_tensor(&x, &format!("input '{what}'"))
            })
            .collect::<Result<_, _>>()?;
        let inner = Rc::clone(&self.inner);
        Ok(future_to_promise(async move {
            let outs = inner.run(on, &tensors).await.map_err(js_error)?;
            let names = inner.model.output_names();
            Ok(names
                .iter()
                .zip(&outs)
                .map(|(name, t)| tensor_object(name, t))
                .collect::<Array>()
                .into())
        }))
    }

    /// Times the model at `batch` on synthetic inputs, `repeat` times after one warm-up: the
    /// whole pass and each layer on WebGPU (host time, and device time where the adapter has
    /// timestamp queries) and on the reference. Resolves to `{adapter (as `adapter()` gives
    /// it), batch, repeat, webgpu: {host, device}, reference, layers: [{name, className,
    /// webgpuHost, webgpuDevice, reference, fusedInto}]}`, times in milliseconds (medians),
    /// `null` where not measured; a layer fused into another is timed with it (`fusedInto`
    /// names that one). Without WebGPU the WebGPU columns are `null` and `adapter` says why.
    pub fn bench(&self, batch: usize, repeat: usize) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            inner
                .bench(batch.max(1), repeat.clamp(1, 1000))
                .await
                .map(JsValue::from)
        })
    }
}

/// [`Model::synthetic_inputs`] with the inputs' names.
fn synthetic(model: &Model, batch: usize) -> Result<Vec<(String, Tensor)>, JsValue> {
    let xs = model.synthetic_inputs(batch).map_err(js_error)?;
    let names = model.inputs().into_iter().map(|(name, _)| name.to_string());
    Ok(names.zip(xs).collect())
}

impl Inner {
    /// The compiled model for at least `batch` examples per run, compiled when there is none
    /// or it takes fewer.
    async fn compiled(&self, batch: usize) -> wgcnn::Result<GpuModel<'static>> {
        let kept = self.compiled.borrow_mut().take();
        match kept {
            Some(c) if c.chunk_size() >= batch => Ok(c),
            _ => {
                let gpu = match GPU.get() {
                    Some(gpu) => gpu,
                    None => gpu().await.map_err(|e| wgcnn::Error::NoAdapter {
                        detail: Reflect::get(&e, &"message".into())
                            .ok()
                            .and_then(|m| m.as_string())
                            .unwrap_or_else(|| NO_WEBGPU.into()),
                    })?,
                };
                self.model.compile_async(gpu, batch).await
            }
        }
    }

    async fn run(&self, on: On, inputs: &[Tensor]) -> wgcnn::Result<Vec<Tensor>> {
        let refs: Vec<&Tensor> = inputs.iter().collect();
        match on {
            On::Reference => self.model.run_many(Backend::Reference, &refs),
            On::WebGpu => {
                // The shapes first: a wrong input fails before any device work.
                let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape()).collect();
                let batch = self.model.check_inputs(&shapes)?;
                let mut compiled = self.compiled(batch.max(1)).await?;
                let outs = compiled.run_many_async(&refs).await;
                self.compiled.replace(Some(compiled));
                outs
            }
        }
    }

    async fn bench(&self, batch: usize, repeat: usize) -> Result<Object, JsValue> {
        let model = &self.model;
        let inputs = synthetic(model, batch)?;
        let x: Vec<&Tensor> = inputs.iter().map(|(_, t)| t).collect();
        let n_layers = model.layers().len();
        let result = Object::new();
        set(&result, "batch", batch as f64);
        set(&result, "repeat", repeat as f64);

        // WebGPU: the whole pass on the host's and the device's clocks, then each dispatch.
        let (mut gpu_host, mut gpu_device) = (vec![None; n_layers], vec![None; n_layers]);
        let webgpu = Object::new();
        match gpu().await {
            Err(e) => {
                let why = Reflect::get(&e, &"message".into()).unwrap_or(e);
                set(&result, "adapter", JsValue::NULL);
                set(&result, "adapterError", why);
                set(&webgpu, "host", JsValue::NULL);
                set(&webgpu, "device", JsValue::NULL);
            }
            Ok(gpu) => {
                set(&result, "adapter", adapter_object(gpu));
                let mut compiled = self.compiled(batch).await.map_err(js_error)?;
                let timed = self
                    .time_gpu(&mut compiled, &x, repeat, &mut gpu_host, &mut gpu_device)
                    .await;
                self.compiled.replace(Some(compiled));
                let (host, device) = timed.map_err(js_error)?;
                set(&webgpu, "host", host);
                set(
                    &webgpu,
                    "device",
                    device.map_or(JsValue::NULL, JsValue::from),
                );
            }
        }
        set(&result, "webgpu", webgpu);

        // The reference, node by node (a layer called several times sums its calls).
        let layer_of_node: HashMap<usize, usize> =
            model.nodes().map(|(i, n)| (i, n.layer)).collect();
        let layer_of = |node: usize| layer_of_node.get(&node).copied();
        model
            .run_cpu_timed(&x, false, &mut |_, _| {})
            .map_err(js_error)?;
        let mut per_layer = vec![Vec::new(); n_layers];
        let mut whole = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            let mut this_run = vec![None::<f64>; n_layers];
            let started = Instant::now();
            model
                .run_cpu_timed(&x, false, &mut |node, t| {
                    if let Some(l) = layer_of(node) {
                        this_run[l] = Some(this_run[l].unwrap_or(0.0) + ms(t));
                    }
                })
                .map_err(js_error)?;
            whole.push(ms(started.elapsed()));
            for (l, t) in this_run.into_iter().enumerate() {
                per_layer[l].extend(t);
            }
        }
        set(&result, "reference", median(whole).unwrap_or(f64::NAN));

        let fused_into = model.fused_layers(true).map_err(js_error)?;
        let layers: Array = model
            .layers()
            .iter()
            .enumerate()
            .map(|(l, entry)| {
                let o = Object::new();
                set(&o, "name", entry.name.as_str());
                set(&o, "className", entry.class_name.as_str());
                let cell = |v: Option<f64>| v.map_or(JsValue::NULL, JsValue::from);
                set(&o, "webgpuHost", cell(gpu_host[l]));
                set(&o, "webgpuDevice", cell(gpu_device[l]));
                set(
                    &o,
                    "reference",
                    cell(median(std::mem::take(&mut per_layer[l]))),
                );
                let fused = fused_into.get(l).copied().flatten();
                let into = fused
                    .and_then(|f| model.layers().get(f))
                    .map(|e| e.name.as_str());
                set(&o, "fusedInto", into.map_or(JsValue::NULL, JsValue::from));
                JsValue::from(o)
            })
            .collect();
        set(&result, "layers", layers);
        Ok(result)
    }

    /// Times `compiled` on `x`: returns the whole pass's median host and device times and
    /// fills each layer's summed per-dispatch medians.
    async fn time_gpu(
        &self,
        compiled: &mut GpuModel<'static>,
        x: &[&Tensor],
        repeat: usize,
        layer_host: &mut [Option<f64>],
        layer_device: &mut [Option<f64>],
    ) -> wgcnn::Result<(f64, Option<f64>)> {
        compiled.load(x)?;
        compiled.run_loaded_async().await?;
        let mut host = Vec::with_capacity(repeat);
        let mut device = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            let started = Instant::now();
            compiled.run_loaded_async().await?;
            host.push(ms(started.elapsed()));
            if let Some(d) = compiled.time_loaded_async().await? {
                device.push(ms(d));
            }
        }
        let mut steps: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
        for _ in 0..repeat {
            for (s, step) in compiled
                .profile_loaded_async()
                .await?
                .into_iter()
                .enumerate()
            {
                if steps.len() <= s {
                    steps.push((step.label, Vec::new(), Vec::new()));
                }
                steps[s].1.push(ms(step.host));
                steps[s].2.extend(step.device.map(ms));
            }
        }
        let labels = StepLayers::new(&self.model);
        for (label, h, d) in steps {
            if let Some(l) = labels.layer_of(&label) {
                let add = |slot: &mut Option<f64>, v| *slot = Some(slot.unwrap_or(0.0) + v);
                if let Some(h) = median(h) {
                    add(&mut layer_host[l], h);
                }
                if let Some(d) = median(d) {
                    add(&mut layer_device[l], d);
                }
            }
        }
        Ok((median(host).unwrap_or(f64::NAN), median(device)))
    }
}
