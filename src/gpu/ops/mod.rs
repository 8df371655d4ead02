//! Kernel emitters: each records the dispatch(es) for one computation into a
//! [`ProgramBuilder`], with a parameter function that plans the geometry for any chunk size.
//! Layers call these from their `lower`; the single-op API ([`crate::Gpu::conv2d`]) too.

mod border2d;
mod conv2d;
mod pool2d;
mod softmax;
mod unary;
mod window;

pub(crate) use border2d::emit_border2d;
pub(crate) use conv2d::{emit_conv2d, emit_dense, lower_conv2d, ConvWeights};
pub(crate) use pool2d::{emit_pool2d, PoolKind};
pub(crate) use softmax::emit_softmax;
pub(crate) use unary::{emit_unary, Unary, UnaryMode};
