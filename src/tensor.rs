//! A dense float32 tensor in C order: the one container every backend reads and writes.
//!
//! Layouts follow Keras: activations are NHWC (`channels_last`), Conv2D kernels are HWIO
//! `(kh, kw, cin, filters)`, biases are `(filters,)`.

use crate::error::{Error, Result};

/// A dense, row-major float32 tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// The number of elements of `shape`, or `None` on overflow.
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

impl Tensor {
    /// Wraps `data` as a tensor of `shape`; the lengths must agree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        let expected = element_count(&shape).ok_or(Error::Overflow {
            op: "tensor",
            what: "shape",
        })?;
        if expected != data.len() {
            return Err(Error::DataLength {
                shape,
                expected,
                len: data.len(),
            });
        }
        Ok(Self { shape, data })
    }

    /// A tensor of `shape` whose element at flat (C-order) index `i` is `f(i)`.
    pub fn from_fn(shape: Vec<usize>, f: impl FnMut(usize) -> f32) -> Result<Self> {
        let len = element_count(&shape).ok_or(Error::Overflow {
            op: "tensor",
            what: "shape",
        })?;
        Ok(Self {
            shape,
            data: (0..len).map(f).collect(),
        })
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in C order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The same values under another shape with as many elements.
    pub fn reshape(self, shape: Vec<usize>) -> Result<Self> {
        Self::new(shape, self.data)
    }

    /// Consumes the tensor, returning its values in C order.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }
}

/// Borrowed float32 values with their shape: data that lives elsewhere (a numpy array, a
/// memory-mapped file) handed to a backend without first copying it into a [`Tensor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorView<'a> {
    shape: &'a [usize],
    data: &'a [f32],
}

impl<'a> TensorView<'a> {
    /// Views `data` as a C-order tensor of `shape`; the lengths must agree.
    pub fn new(shape: &'a [usize], data: &'a [f32]) -> Result<Self> {
        let expected = element_count(shape).ok_or(Error::Overflow {
            op: "tensor",
            what: "shape",
        })?;
        if expected != data.len() {
            return Err(Error::DataLength {
                shape: shape.to_vec(),
                expected,
                len: data.len(),
            });
        }
        Ok(Self { shape, data })
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// The values in C order.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// An owned copy, for what takes [`Tensor`]s (the CPU backends).
    pub fn to_tensor(&self) -> Tensor {
        Tensor {
            shape: self.shape.to_vec(),
            data: self.data.to_vec(),
        }
    }
}

impl<'a> From<&'a Tensor> for TensorView<'a> {
    fn from(t: &'a Tensor) -> Self {
        Self {
            shape: &t.shape,
            data: &t.data,
        }
    }
}
