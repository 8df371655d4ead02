//! Layer specifications: hyper-parameters, validation, output shapes and parameter counts.
//!
//! A spec knows nothing about backends; the CPU reference ([`crate::reference`]) and the GPU
//! dispatcher ([`crate::gpu`]) both start from the [`crate::Window2d`] a spec plans.

mod conv2d;
mod dense;
mod max_pool2d;

pub use conv2d::Conv2dSpec;
pub use dense::check_dense;
pub use max_pool2d::Pool2dSpec;
