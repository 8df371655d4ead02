//! # wgcnn
//!
//! Keras CNNs on any GPU through wgpu (Vulkan, Metal, DX12, GL, or a software adapter such as
//! Mesa lavapipe): Keras-exact `Conv2D`, pooling and the layers around them, whole `.keras`
//! models with Keras's summary, every result checked against a plain CPU reference.
//!
//! Tensors follow Keras: activations NHWC (`channels_last`), kernels HWIO
//! `(kh, kw, in_channels, filters)`, float32.
//!
//! - [`Conv2dSpec`] and [`Pool2dSpec`] describe layers and compute output shapes and parameter
//!   counts with Keras 3's formulas ([`shape`]), without touching any backend.
//! - [`reference`](mod@reference) is the CPU oracle: plain loops; `cpu` the fast CPU backend.
//! - [`Gpu`] runs the same ops with WGSL compute shaders ([`gpu`]: the device, compiled
//!   programs, the Conv2D kernel variants).
//! - [`model`] loads `.keras` and legacy `.h5` files, prints their summary and runs them on any
//!   backend; [`model::Sequential`] builds one in code.
//! - [`layers`]: one type per Keras layer, each implementing [`layers::Layer`] — which a layer
//!   of your own can implement too, for the reference and CPU backends.
//! - [`npy`] reads and writes `.npy` / `.npz`; [`names`] makes output names safe file names;
//!   `images` (feature `images`) reads PNG and JPEG files as Keras's `load_img` does.
//!
//! ```
//! use wgcnn::{reference, Conv2dSpec, Padding, Tensor};
//!
//! // Keras: Conv2D(2, (3, 2), strides=2, padding='same') on a 1×5×4×1 input.
//! let spec = Conv2dSpec::new(2, [3, 2]).strides([2, 2]).padding(Padding::Same);
//! assert_eq!(spec.output_shape([1, 5, 4, 1])?, [1, 3, 2, 2]);
//! assert_eq!(spec.param_count(1)?, 2 * 3 * 2 * 1 + 2);
//!
//! let input = Tensor::from_fn(vec![1, 5, 4, 1], |i| i as f32)?;
//! let kernel = Tensor::from_fn(spec.kernel_shape(1).to_vec(), |_| 1.0)?;
//! let bias = Tensor::new(vec![2], vec![0.0, 0.5])?;
//! let cpu = reference::conv2d(&spec, &input, &kernel, Some(&bias))?;
//! assert_eq!(cpu.shape(), &[1, 3, 2, 2]);
//!
//! // The same on the GPU (needs an adapter: `wgcnn adapters` lists them).
//! let gpu = wgcnn::Gpu::new()?;
//! let out = gpu.conv2d(&spec, &input, &kernel, Some(&bias))?;
//! assert_eq!(out, cpu); // integer-valued inputs: exact
//! # Ok::<(), wgcnn::Error>(())
//! ```
//!
//! Whole Keras models ([`model`]): load a `.keras` file, print the summary Keras prints, and run
//! the forward pass on the backend of your choice.
//!
//! ```
//! use wgcnn::model::{Backend, Model};
//! use wgcnn::npy::read_npy;
//!
//! // The seed CIFAR-10 network bundled with wgcnn (synthetic weights).
//! let dir = env!("CARGO_MANIFEST_DIR");
//! let model = Model::load(format!("{dir}/models/cifar10.keras"))?;
//! print!("{}", model.summary().table()); // … Total params: 1,250,858 (4.77 MB) …
//! assert_eq!(model.summary().total_params, 1_250_858);
//!
//! let x = read_npy(format!("{dir}/models/cifar10.input.npy"))?; // (2, 32, 32, 3)
//! let cpu = model.run(Backend::Cpu, &x)?;
//! // Compile once for a device, run many times: weights stay on the device.
//! let gpu = wgcnn::Gpu::new()?;
//! let mut compiled = model.compile(&gpu, 2)?;
//! let y = compiled.run(&x)?;
//! assert_eq!(y.shape(), &[2, 10]);
//! assert!(y.data().iter().zip(cpu.data()).all(|(a, b)| (a - b).abs() < 1e-5));
//! # Ok::<(), wgcnn::Error>(())
//! ```
//!
//! ## Features
//!
//! - `native` (default): what needs an operating system — the fast CPU backend `cpu` (rayon
//!   threads, SIMD GEMMs), the CPU memory limit's physical-memory query, autotuning and
//!   profiling (they read a clock), and the blocking GPU methods (`Gpu::new`,
//!   `GpuModel::run`, ...), each a thin `pollster` wrapper of its `*_async` twin.
//! - `images` (default, through `cli`): `images`, PNG and JPEG files as model inputs.
//! - `seeds` (default, through `cli`): `seeds`, the worked examples of the documents wgcnn
//!   grew from.
//! - `cli` (default, implies `native`, `images` and `seeds`): the `wgcnn` binary's
//!   dependencies.
//!
//! A browser's WebGPU answers only through promises, and a browser thread must not block. The
//! wasm32 build (the `web/` crate of the repository: a JavaScript module and a page) therefore
//! uses `default-features = false`: [`Gpu::new_async`],
//! [`Model::compile_async`], [`GpuModel::run_async`](model::GpuModel::run_async) and the other
//! `*_async` methods, and [`Backend::Reference`] on the CPU ([`Backend::Cpu`] is then
//! [`Error::FeatureDisabled`]). The async methods work natively too; any executor drives them:
//!
//! ```
//! # let dir = env!("CARGO_MANIFEST_DIR");
//! # let model = wgcnn::Model::load(format!("{dir}/models/cifar10.keras"))?;
//! # let x = wgcnn::npy::read_npy(format!("{dir}/models/cifar10.input.npy"))?;
//! let y = pollster::block_on(async {
//!     let gpu = wgcnn::Gpu::new_async().await?;
//!     let mut compiled = model.compile_async(&gpu, 2).await?;
//!     compiled.run_async(&x).await
//! })?;
//! assert_eq!(y.shape(), &[2, 10]);
//! # Ok::<(), wgcnn::Error>(())
//! ```
#![warn(missing_docs)]

mod activation;
#[cfg(feature = "native")]
pub mod cpu;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod gpu;
mod hash;
#[cfg(feature = "images")]
pub mod images;
pub mod layers;
mod limits;
pub mod model;
pub mod names;
pub mod npy;
pub mod reference;
// The demo's data, not an inference API: feature `seeds` (the binary's `cli` has it).
#[cfg(feature = "seeds")]
pub mod seeds;
pub mod shape;
mod specs;
mod tensor;

pub use activation::Activation;
pub use error::{Error, Result};
pub use gpu::{Gpu, GpuOptions};
pub use model::{Backend, Model};
pub use shape::{Padding, Window2d};
pub use specs::{Conv2dSpec, DepthwiseSpec, Pool2dSpec, Transpose2d, TransposeSpec};
pub use tensor::{Comparison, Mismatch, Tensor, TensorView};
/// The README's Rust examples, compiled and run as doctests so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The wgpu version wgcnn is built on, for [`GpuOptions::limits`] and adapter details.
pub use wgpu;
