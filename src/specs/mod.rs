//! Layer specifications: hyper-parameters, validation, output shapes and parameter counts.
//!
//! A spec knows nothing about backends; the CPU reference ([`crate::reference`]) and the GPU
//! dispatcher ([`crate::gpu`]) both start from the [`crate::Window2d`] a spec plans.

mod conv2d;
mod conv2d_transpose;
mod dense;
mod depthwise;
mod max_pool2d;

pub use conv2d::Conv2dSpec;
pub use conv2d_transpose::{Transpose2d, TransposeSpec};
pub use dense::check_dense;
pub use depthwise::DepthwiseSpec;
pub use max_pool2d::Pool2dSpec;
