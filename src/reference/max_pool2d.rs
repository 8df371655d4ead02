use crate::error::Result;
use crate::ops::Pool2dSpec;
use crate::tensor::Tensor;

/// MaxPooling2D on the CPU. Padded cells are skipped, so they never win the max.
pub fn max_pool2d(spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
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
                    let mut best = f32::NEG_INFINITY;
                    for ky in 0..p_h {
                        let Some(iy) = g.input_row(oy, ky) else {
                            continue;
                        };
                        for kx in 0..p_w {
                            let Some(ix) = g.input_col(ox, kx) else {
                                continue;
                            };
                            best = best.max(x[((n * in_h + iy) * in_w + ix) * channels + c]);
                        }
                    }
                    out.push(best);
                }
            }
        }
    }
    Tensor::new(g.output.to_vec(), out)
}
