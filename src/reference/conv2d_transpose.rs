use crate::error::Result;
use crate::specs::TransposeSpec;
use crate::tensor::Tensor;

/// Conv2DTranspose on the CPU, straight from the definition Keras's JAX backend uses: each
/// output cell sums, over the kernel taps, the input cells the spread-out, padded input puts
/// under the flipped kernel ([`TransposeSpec::source`]).
pub fn conv2d_transpose(
    spec: &TransposeSpec,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    let [_, in_h, in_w, in_c] = g.input;
    let [batch, out_h, out_w, f_n] = g.output;
    let [k_h, k_w] = spec.kernel_size;
    let (x, w) = (input.data(), kernel.data());
    let mut out = Vec::with_capacity(batch * out_h * out_w * f_n);
    for n in 0..batch {
        for oy in 0..out_h {
            for ox in 0..out_w {
                for f in 0..f_n {
                    let mut acc = bias.map_or(0.0, |b| f64::from(b.data()[f]));
                    for ky in 0..k_h {
                        let Some(iy) = spec.source(&g.rows, oy, ky, 0, in_h) else {
                            continue;
                        };
                        for kx in 0..k_w {
                            let Some(ix) = spec.source(&g.cols, ox, kx, 1, in_w) else {
                                continue;
                            };
                            for c in 0..in_c {
                                let xv = x[((n * in_h + iy) * in_w + ix) * in_c + c];
                                let wv = w[((ky * k_w + kx) * f_n + f) * in_c + c];
                                acc += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    out.push(spec.activation.apply(acc) as f32);
                }
            }
        }
    }
    Tensor::new(g.output.to_vec(), out)
}
