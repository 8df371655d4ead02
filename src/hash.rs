//! FNV-1a (64 bits): a small, stable hash of bytes. Stable across builds and platforms, which
//! the synthetic weights (reproduced bit for bit by `tools/keras_random.py`) and the keys of
//! uploaded fused weights need; not for untrusted keys in hash tables.

/// FNV-1a over `bytes`.
pub(crate) fn fnv1a64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
