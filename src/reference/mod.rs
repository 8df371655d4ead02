//! The CPU reference: plain loops that are obviously correct, the oracle every GPU kernel is
//! tested against. Accumulation is in `f64`, so for integer-valued inputs the result is exact.
//! Not fast, on purpose.

mod batch_norm;
mod conv2d;
mod dense;
mod pool2d;
mod softmax;
mod zero_padding2d;

pub use batch_norm::batch_norm;
pub use conv2d::conv2d;
pub use dense::dense;
pub use pool2d::{avg_pool2d, max_pool2d};
pub use softmax::softmax;
pub use zero_padding2d::zero_padding2d;
