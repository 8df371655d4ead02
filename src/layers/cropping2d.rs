//! Keras `Cropping2D`: rows and columns removed from each image's borders.

use super::border2d::{amounts, Border};
use super::config::Config;
use crate::error::Result;

/// `Cropping2D(((top, bottom), (left, right)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cropping2d(pub [[usize; 2]; 2]);

impl Cropping2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["cropping", "data_format"])?;
        c.channels_last()?;
        Ok(Self(amounts(c, "cropping", 0)?))
    }
}

impl Border for Cropping2d {
    const CLASS: &'static str = "Cropping2D";
    const OP: &'static str = "cropping2d";
    const SIGN: isize = -1;

    fn amounts(&self) -> [[usize; 2]; 2] {
        self.0
    }
}
