//! The CPU reference: plain loops that are obviously correct, the oracle every GPU kernel is
//! tested against. Accumulation is in `f64`, so for integer-valued inputs the result is exact.
//! Not fast, on purpose.

mod conv2d;
mod max_pool2d;

pub use conv2d::conv2d;
pub use max_pool2d::max_pool2d;
