//! Keras `ZeroPadding2D`: rows and columns of zeros around each image.

use super::border2d::{amounts, Border};
use super::config::Config;
use crate::error::Result;

/// `ZeroPadding2D(((top, bottom), (left, right)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroPadding2d(pub [[usize; 2]; 2]);

impl ZeroPadding2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["padding", "data_format"])?;
        c.channels_last()?;
        Ok(Self(amounts(c, "padding", 1)?))
    }
}

impl Border for ZeroPadding2d {
    const CLASS: &'static str = "ZeroPadding2D";
    const OP: &'static str = "zero_padding2d";
    const SIGN: isize = 1;

    fn amounts(&self) -> [[usize; 2]; 2] {
        self.0
    }
}
