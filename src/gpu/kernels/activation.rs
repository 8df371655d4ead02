//! The Rust side of the `activation.wgsl` prelude: the codes of the activations a kernel can
//! fuse into its store, which the host writes into a uniform field.

use super::super::kernel::Codes;
use crate::activation::Activation;

/// Every [`Activation`] as `activation.wgsl`'s `ACT_*` const.
pub(super) const CODES: Codes = Codes {
    what: "activation",
    table: || {
        Activation::ALL
            .iter()
            .map(|a| (format!("ACT_{}", a.name().to_uppercase()), a.shader_code()))
            .collect()
    },
    switch: true,
};
