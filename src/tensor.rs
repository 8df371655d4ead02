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

    /// How far `self` is from `expected`, element by element, against the tolerance
    /// `|self − expected| ≤ atol + rtol·|expected|` (numpy's `allclose`; NaN matches NaN and
    /// infinities must be equal): what `wgcnn run --compare` and the web page report. Tensors
    /// of different shapes are an error.
    pub fn compare(&self, expected: &Tensor, rtol: f64, atol: f64) -> Result<Comparison> {
        if self.shape != expected.shape {
            return Err(Error::ShapeMismatch {
                op: "compare",
                what: "tensors",
                expected: format!("{:?}", expected.shape),
                actual: self.shape.clone(),
            });
        }
        let mut c = Comparison {
            max_abs: 0.0,
            max_rel: 0.0,
            beyond: 0,
            worst: None,
        };
        // The excess of the element furthest beyond its tolerance (a NaN against a number is
        // the furthest).
        let mut worst_excess = 0f64;
        for (i, (&a, &e)) in self.data.iter().zip(&expected.data).enumerate() {
            let (a, e) = (f64::from(a), f64::from(e));
            if (a.is_nan() && e.is_nan()) || a == e {
                continue;
            }
            let diff = (a - e).abs();
            let allowed = atol + rtol * e.abs();
            if diff.is_nan() || diff > allowed {
                c.beyond += 1;
                let excess = if diff.is_nan() {
                    f64::INFINITY
                } else {
                    diff / allowed
                };
                if c.worst.is_none() || excess > worst_excess {
                    c.worst = Some(Mismatch {
                        index: unravel(i, &self.shape),
                        actual: a as f32,
                        expected: e as f32,
                    });
                    worst_excess = excess;
                }
            }
            c.max_abs = c.max_abs.max(diff);
            if e != 0.0 {
                c.max_rel = c.max_rel.max(diff / e.abs());
            }
        }
        Ok(c)
    }
}

/// The result of [`Tensor::compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The largest `|actual − expected|` (NaN where one side is NaN and the other not).
    pub max_abs: f64,
    /// The largest `|actual − expected| / |expected|` over nonzero expected values.
    pub max_rel: f64,
    /// How many elements are beyond the tolerance.
    pub beyond: usize,
    /// The element furthest beyond its tolerance, if any is.
    pub worst: Option<Mismatch>,
}

/// One element beyond the tolerance of [`Tensor::compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Its multi-index.
    pub index: Vec<usize>,
    /// The compared tensor's value.
    pub actual: f32,
    /// The expected value.
    pub expected: f32,
}

impl Comparison {
    /// Whether every element is within the tolerance.
    pub fn all_close(&self) -> bool {
        self.beyond == 0
    }
}

/// The multi-index of flat index `i` in a row-major array of `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (k, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            index[k] = i % d;
            i /= d;
        }
    }
    index
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape.to_vec(), data.to_vec()).unwrap()
    }

    #[test]
    fn compare_reports_the_worst_element_against_the_tolerance() {
        let expected = t(&[2, 2], &[1.0, -2.0, 0.0, f32::NAN]);
        // Within 1e-3 + 1e-3·|e| at [0, 0]; 0.5 off at [0, 1]; 2e-3 off a zero at [1, 0].
        let actual = t(&[2, 2], &[1.0015, -2.5, 0.002, f32::NAN]);
        let c = actual.compare(&expected, 1e-3, 1e-3).unwrap();
        assert_eq!(c.beyond, 2);
        assert!(!c.all_close());
        assert!((c.max_abs - 0.5).abs() < 1e-6, "{c:?}");
        assert!((c.max_rel - 0.25).abs() < 1e-6, "{c:?}");
        let worst = c.worst.unwrap();
        assert_eq!(worst.index, vec![0, 1]);
        assert_eq!((worst.actual, worst.expected), (-2.5, -2.0));
        assert!(actual.compare(&expected, 1.0, 1.0).unwrap().all_close());
    }

    #[test]
    fn compare_counts_a_nan_against_a_number_as_the_worst() {
        let expected = t(&[3], &[1.0, 5.0, f32::INFINITY]);
        let actual = t(&[3], &[f32::NAN, 9.0, f32::INFINITY]);
        let c = actual.compare(&expected, 0.0, 0.0).unwrap();
        assert_eq!(c.beyond, 2);
        assert_eq!(c.worst.unwrap().index, vec![0]);
    }

    #[test]
    fn compare_refuses_different_shapes() {
        let a = t(&[2, 3], &[0.0; 6]);
        let b = t(&[3, 2], &[0.0; 6]);
        assert!(a.compare(&b, 0.0, 0.0).is_err());
    }
}
