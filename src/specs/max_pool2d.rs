use crate::error::{Error, Result};
use crate::shape::{Padding, Window2d};

const OP: &str = "max_pool2d";

/// A Keras `MaxPooling2D` layer's hyper-parameters.
///
/// Strides default to the pool size, as in Keras. With `same` padding, padded cells never win
/// the max (they are skipped, not zeros).
///
/// ```
/// use wgcnn::{Padding, Pool2dSpec};
/// let spec = Pool2dSpec::new([5, 2]).strides([3, 2]).padding(Padding::Same);
/// assert_eq!(spec.output_shape([1, 49, 94, 3])?, [1, 17, 47, 3]);
/// # Ok::<(), wgcnn::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dSpec {
    /// Window `(rows, cols)`.
    pub pool_size: [usize; 2],
    /// Strides `(rows, cols)`.
    pub strides: [usize; 2],
    /// `valid` or `same`.
    pub padding: Padding,
}

impl Pool2dSpec {
    /// `MaxPooling2D(pool_size)`: strides equal to the pool size, padding `valid`.
    pub const fn new(pool_size: [usize; 2]) -> Self {
        Self {
            pool_size,
            strides: pool_size,
            padding: Padding::Valid,
        }
    }

    /// Sets the strides.
    pub const fn strides(mut self, strides: [usize; 2]) -> Self {
        self.strides = strides;
        self
    }

    /// Sets the padding.
    pub const fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Checks the hyper-parameters on their own.
    pub fn validate(&self) -> Result<()> {
        if self.pool_size.contains(&0) || self.strides.contains(&0) {
            return Err(Error::InvalidConfig {
                op: OP,
                reason: format!(
                    "pool_size {:?} and strides {:?} must be at least 1",
                    self.pool_size, self.strides
                ),
            });
        }
        Ok(())
    }

    /// Plans this layer on an NHWC input shape (channels pass through).
    pub fn plan(&self, input: [usize; 4]) -> Result<Window2d> {
        self.validate()?;
        Window2d::new(
            OP,
            input,
            input[3],
            self.pool_size,
            self.strides,
            [1, 1],
            self.padding,
        )
    }

    /// The NHWC output shape for an NHWC input shape.
    pub fn output_shape(&self, input: [usize; 4]) -> Result<[usize; 4]> {
        Ok(self.plan(input)?.output)
    }

    /// Pooling has no parameters.
    pub fn param_count(&self) -> usize {
        0
    }

    /// Plans the layer for a concrete input shape, which must be rank 4.
    pub fn check(&self, input: &[usize]) -> Result<Window2d> {
        let input4 = crate::shape::nhwc(OP, input)?;
        self.plan(input4)
    }
}
