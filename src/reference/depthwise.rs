use crate::error::Result;
use crate::specs::DepthwiseSpec;
use crate::tensor::Tensor;

/// DepthwiseConv2D on the CPU: output channel `c·dm + m` is input channel `c` convolved with
/// `kernel[.., .., c, m]`, plus the bias, through the activation.
pub fn depthwise_conv2d(
    spec: &DepthwiseSpec,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    let [_, in_h, in_w, in_c] = g.input;
    let [batch, out_h, out_w, out_c] = g.output;
    let [k_h, k_w] = g.window;
    let dm = spec.depth_multiplier;
    let (x, w) = (input.data(), kernel.data());
    let mut out = Vec::with_capacity(batch * out_h * out_w * out_c);
    for n in 0..batch {
        for oy in 0..out_h {
            for ox in 0..out_w {
                for o in 0..out_c {
                    let c = o / dm;
                    let mut acc = 0.0f64;
                    for ky in 0..k_h {
                        let Some(iy) = g.input_row(oy, ky) else {
                            continue;
                        };
                        for kx in 0..k_w {
                            let Some(ix) = g.input_col(ox, kx) else {
                                continue;
                            };
                            let xv = x[((n * in_h + iy) * in_w + ix) * in_c + c];
                            let wv = w[(ky * k_w + kx) * out_c + o];
                            acc += f64::from(xv) * f64::from(wv);
                        }
                    }
                    if let Some(b) = bias {
                        acc += f64::from(b.data()[o]);
                    }
                    out.push(spec.activation.apply(acc) as f32);
                }
            }
        }
    }
    Tensor::new(g.output.to_vec(), out)
}
