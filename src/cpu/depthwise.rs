use rayon::prelude::*;

use super::{finish_rows, Finish};
use crate::error::Result;
use crate::specs::DepthwiseSpec;
use crate::tensor::Tensor;

/// DepthwiseConv2D on all cores. im2col would build a patch matrix per channel for a
/// one-column product, so this is a direct loop instead: per output row (in parallel), every
/// window tap adds `input pixel × tap weights` across all channels at once — contiguous in
/// NHWC, so the inner loop vectorizes.
pub fn depthwise_conv2d(
    spec: &DepthwiseSpec,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    depthwise_conv2d_with(spec, input, kernel, Finish::bias(bias, spec.activation))
}

/// [`depthwise_conv2d`] with the output rows finished by `finish` (a fused epilogue).
pub fn depthwise_conv2d_with(
    spec: &DepthwiseSpec,
    input: &Tensor,
    kernel: &Tensor,
    finish: Finish<'_>,
) -> Result<Tensor> {
    let bias_len = spec.use_bias.then(|| {
        crate::shape::nhwc("depthwise_conv2d", input.shape())
            .map_or(0, |s| s[3] * spec.depth_multiplier)
    });
    let bias_shape = bias_len.map(|n| [n]);
    let g = spec.check(
        input.shape(),
        kernel.shape(),
        bias_shape.as_ref().map(|b| &b[..]),
    )?;
    let [_, in_h, in_w, in_c] = g.input;
    let [_, out_h, out_w, out_c] = g.output;
    let [k_h, k_w] = g.window;
    let dm = spec.depth_multiplier;
    let (x, w) = (input.data(), kernel.data());
    let mut out = vec![0.0f32; g.output.iter().product()];
    out.par_chunks_mut(out_w * out_c)
        .enumerate()
        .for_each(|(row, out_row)| {
            let (n, oy) = (row / out_h, row % out_h);
            for ky in 0..k_h {
                let Some(iy) = g.input_row(oy, ky) else {
                    continue;
                };
                for kx in 0..k_w {
                    let taps = &w[(ky * k_w + kx) * out_c..][..out_c];
                    for (ox, acc) in out_row.chunks_exact_mut(out_c).enumerate() {
                        let Some(ix) = g.input_col(ox, kx) else {
                            continue;
                        };
                        let pixel = &x[((n * in_h + iy) * in_w + ix) * in_c..][..in_c];
                        if dm == 1 {
                            for ((a, &v), &t) in acc.iter_mut().zip(pixel).zip(taps) {
                                *a += v * t;
                            }
                        } else {
                            for (o, (a, &t)) in acc.iter_mut().zip(taps).enumerate() {
                                *a += pixel[o / dm] * t;
                            }
                        }
                    }
                }
            }
        });
    finish_rows(&mut out, out_c, finish);
    Tensor::new(g.output.to_vec(), out)
}
