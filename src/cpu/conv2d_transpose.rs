use rayon::prelude::*;

use super::gemm::matmul;
use super::{finish_rows, internal, Finish};
use crate::error::Result;
use crate::specs::TransposeSpec;
use crate::tensor::Tensor;

/// Conv2DTranspose on all cores as a GEMM and a gather: every input cell's contribution to
/// every tap, `Y = X (cells × in_c) · K (in_c × taps·filters)`, then each output cell (in
/// parallel) sums the contributions of the cells that land on it.
pub fn conv2d_transpose(
    spec: &TransposeSpec,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    let [batch, in_h, in_w, in_c] = g.input;
    let [_, out_h, out_w, f_n] = g.output;
    let [k_h, k_w] = spec.kernel_size;
    let taps = k_h * k_w;
    // (in_c × taps·filters): column t·F + f holds tap t's weights for filter f.
    let w = kernel.data();
    let mut k = vec![0.0f32; in_c * taps * f_n];
    for t in 0..taps {
        for f in 0..f_n {
            for c in 0..in_c {
                k[c * taps * f_n + t * f_n + f] = w[(t * f_n + f) * in_c + c];
            }
        }
    }
    let cells = batch * in_h * in_w;
    let mut y = vec![0.0f32; cells * taps * f_n];
    if !matmul(
        cells,
        taps * f_n,
        in_c,
        input.data(),
        &k,
        &mut y,
        rayon::current_num_threads(),
    ) {
        return Err(internal("conv2d_transpose"));
    }
    let mut out = vec![0.0f32; batch * out_h * out_w * f_n];
    out.par_chunks_mut(out_w * f_n)
        .enumerate()
        .for_each(|(row, out_row)| {
            let (n, oy) = (row / out_h, row % out_h);
            for ky in 0..k_h {
                let Some(iy) = spec.source(&g.rows, oy, ky, 0, in_h) else {
                    continue;
                };
                for kx in 0..k_w {
                    let t = ky * k_w + kx;
                    for (ox, acc) in out_row.chunks_exact_mut(f_n).enumerate() {
                        let Some(ix) = spec.source(&g.cols, ox, kx, 1, in_w) else {
                            continue;
                        };
                        let cell = (n * in_h + iy) * in_w + ix;
                        let part = &y[(cell * taps + t) * f_n..][..f_n];
                        acc.iter_mut().zip(part).for_each(|(a, &v)| *a += v);
                    }
                }
            }
        });
    finish_rows(&mut out, f_n, Finish::bias(bias, spec.activation));
    Tensor::new(g.output.to_vec(), out)
}
