//! The one place wgcnn calls into a GEMM crate (`gemm`, with AVX-512/AVX2/NEON kernels picked
//! at run time), behind a safe, bounds-checked signature.

use gemm::Parallelism;

/// Row-major `out (m×n) = a (m×k) · b (k×n)`. `threads` > 1 lets the GEMM split the work.
///
/// Returns `false` (doing nothing) if a slice is shorter than its dimensions require; callers
/// size them exactly, so this only guards the `unsafe` call below.
pub(super) fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    out: &mut [f32],
    threads: usize,
) -> bool {
    let fits = |len: usize, r: usize, c: usize| r.checked_mul(c).is_some_and(|need| len >= need);
    if !(fits(a.len(), m, k) && fits(b.len(), k, n) && fits(out.len(), m, n)) {
        return false;
    }
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 {
        out[..m * n].fill(0.0);
        return true;
    }
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the checks above guarantee that every element the strides below address, rows
    // `< m|k` and columns `< k|n` of row-major matrices, lies inside `a`, `b` and `out`; `out`
    // is borrowed mutably and does not alias `a` or `b`. With `read_dst = false` the previous
    // contents of `out` are not read (alpha is ignored).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
    true
}
