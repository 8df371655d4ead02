//! Kernel emitters: each records the dispatch(es) for one computation into a
//! [`ProgramBuilder`], with a parameter function that plans the geometry for any chunk size.
//! Layers call these from their `lower`; the single-op API ([`crate::Gpu::conv2d`]) too.

mod binary;
mod border2d;
mod conv2d;
mod dense;
mod depthwise;
mod pool2d;
mod recurrent;
mod softmax;
mod transpose;
mod unary;
mod window;

pub(crate) use binary::{emit_binary, emit_binary_then, emit_copy, emit_gather, BinaryOp, Operand};
pub(crate) use border2d::emit_border2d;
pub(crate) use conv2d::{emit_conv2d, fold_scale, lower_conv2d, lower_conv2d_with, ConvWeights};
pub(crate) use dense::emit_dense;
pub(crate) use depthwise::emit_depthwise;
pub(crate) use pool2d::{emit_pool2d, PoolKind};
pub(crate) use recurrent::{emit_embedding, emit_steps, Cell, Steps};
pub(crate) use softmax::{emit_softmax, emit_softmax_strided};
pub(crate) use transpose::{emit_conv2d_transpose, emit_layer_norm, emit_resize2d};
pub(crate) use unary::{emit_unary, Unary};
