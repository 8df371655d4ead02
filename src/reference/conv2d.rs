use crate::error::Result;
use crate::specs::Conv2dSpec;
use crate::tensor::Tensor;

/// Conv2D on the CPU: NHWC `input`, HWIO `kernel`, optional `(filters,)` bias, fused activation.
/// With `groups > 1`, filter `co` sees only the input channels of its group.
pub fn conv2d(
    spec: &Conv2dSpec,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    let g = spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    let [_, in_h, in_w, in_c] = g.input;
    let [batch, out_h, out_w, out_c] = g.output;
    let [k_h, k_w] = g.window;
    let (x, w) = (input.data(), kernel.data());
    let group_in = in_c / spec.groups;
    let group_out = out_c / spec.groups;

    let mut out = Vec::with_capacity(batch * out_h * out_w * out_c);
    for n in 0..batch {
        for oy in 0..out_h {
            for ox in 0..out_w {
                for co in 0..out_c {
                    let c0 = (co / group_out) * group_in;
                    let mut acc = 0.0f64;
                    for ky in 0..k_h {
                        let Some(iy) = g.input_row(oy, ky) else {
                            continue;
                        };
                        for kx in 0..k_w {
                            let Some(ix) = g.input_col(ox, kx) else {
                                continue;
                            };
                            for ci in 0..group_in {
                                let xv = x[((n * in_h + iy) * in_w + ix) * in_c + c0 + ci];
                                let wv = w[((ky * k_w + kx) * group_in + ci) * out_c + co];
                                acc += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    if let Some(b) = bias {
                        acc += f64::from(b.data()[co]);
                    }
                    out.push(spec.activation.apply(acc) as f32);
                }
            }
        }
    }
    Tensor::new(g.output.to_vec(), out)
}
