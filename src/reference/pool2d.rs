use crate::activation::nan_max;
use crate::error::Result;
use crate::specs::Pool2dSpec;
use crate::tensor::Tensor;

/// Slides the pooling window and reduces the real (non-padded) cells under it with `reduce`.
/// Every Keras window, 'valid' or 'same', holds at least one real cell.
fn pool2d(spec: &Pool2dSpec, input: &Tensor, reduce: impl Fn(&[f32]) -> f32) -> Result<Tensor> {
    let g = spec.check(input.shape())?;
    let [_, in_h, in_w, channels] = g.input;
    let [batch, out_h, out_w, _] = g.output;
    let [p_h, p_w] = g.window;
    let x = input.data();

    let mut out = Vec::with_capacity(batch * out_h * out_w * channels);
    // The cells of a window inside the input: never more than the input's own.
    let mut cells = Vec::with_capacity(p_h.min(in_h) * p_w.min(in_w));
    for n in 0..batch {
        for oy in 0..out_h {
            for ox in 0..out_w {
                for c in 0..channels {
                    cells.clear();
                    for ky in g.rows_inside(oy) {
                        let Some(iy) = g.input_row(oy, ky) else {
                            continue;
                        };
                        for kx in g.cols_inside(ox) {
                            let Some(ix) = g.input_col(ox, kx) else {
                                continue;
                            };
                            cells.push(x[((n * in_h + iy) * in_w + ix) * channels + c]);
                        }
                    }
                    out.push(reduce(&cells));
                }
            }
        }
    }
    Tensor::new(g.output.to_vec(), out)
}

/// MaxPooling2D on the CPU. Padded cells are skipped, so they never win the max; a NaN in the
/// window wins, as in Keras (XLA's max keeps NaN).
pub fn max_pool2d(spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
    pool2d(spec, input, |cells| {
        cells
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| nan_max(m, f64::from(v))) as f32
    })
}

/// AveragePooling2D on the CPU. As in Keras, 'same' averages over the real cells of each
/// window only: padded cells count neither in the sum nor in the divisor.
pub fn avg_pool2d(spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
    pool2d(spec, input, |cells| {
        // From +0.0 (an all −0.0 window averages to +0.0, as in XLA). The f64 sum is exact
        // enough; rounding it to f32 before dividing overflows where Keras's float32 sum does.
        let sum = cells.iter().fold(0.0f64, |s, &v| s + f64::from(v));
        (sum as f32) / cells.len().max(1) as f32
    })
}
