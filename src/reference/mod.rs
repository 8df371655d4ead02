//! The CPU reference: plain loops that are obviously correct, the oracle every GPU kernel is
//! tested against. Accumulation is in `f64`, so for integer-valued inputs the result is exact.
//! Not fast, on purpose.

mod batch_norm;
mod border2d;
mod broadcast;
mod conv2d;
mod conv2d_transpose;
mod dense;
mod depthwise;
mod pool2d;
mod softmax;

pub use batch_norm::batch_norm;
pub use border2d::border2d;
pub use broadcast::binary;
pub use conv2d::conv2d;
pub use conv2d_transpose::conv2d_transpose;
pub use dense::dense;
pub use depthwise::depthwise_conv2d;
pub use pool2d::{avg_pool2d, max_pool2d};
pub use softmax::{softmax, softmax_axis};

use crate::error::Result;
use crate::tensor::Tensor;

/// Applies `f` (in f64) to every value: the element-wise layers' reference.
pub fn map(input: &Tensor, f: impl Fn(f64) -> f64) -> Result<Tensor> {
    let data = input
        .data()
        .iter()
        .map(|&v| f(f64::from(v)) as f32)
        .collect();
    Tensor::new(input.shape().to_vec(), data)
}
