use crate::error::Result;
use crate::ops::Pool2dSpec;
use crate::tensor::Tensor;

/// AveragePooling2D on the CPU. As in Keras, 'same' averages over the real cells of each
/// window only: padded cells count neither in the sum nor in the divisor.
pub fn avg_pool2d(spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
    let g = spec.check(input.shape())?;
    let [_, in_h, in_w, channels] = g.input;
    let [batch, out_h, out_w, _] = g.output;
    let [p_h, p_w] = g.window;
    let x = input.data();

    let mut out = Vec::with_capacity(batch * out_h * out_w * channels);
    for n in 0..batch {
        for oy in 0..out_h {
            for ox in 0..out_w {
                for c in 0..channels {
                    let (mut sum, mut count) = (0.0f64, 0usize);
                    for ky in 0..p_h {
                        let Some(iy) = g.input_row(oy, ky) else {
                            continue;
                        };
                        for kx in 0..p_w {
                            let Some(ix) = g.input_col(ox, kx) else {
                                continue;
                            };
                            sum += f64::from(x[((n * in_h + iy) * in_w + ix) * channels + c]);
                            count += 1;
                        }
                    }
                    // Every Keras window holds at least one real cell.
                    out.push((sum / count.max(1) as f64) as f32);
                }
            }
        }
    }
    Tensor::new(g.output.to_vec(), out)
}
