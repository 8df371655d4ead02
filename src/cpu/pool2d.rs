//! Max and average pooling on all cores. The reference gathers each window cell by cell per
//! channel; here a window's cells are whole channel rows, reduced into a row of accumulators,
//! so the inner loop runs over contiguous channels. Values match the reference exactly: the
//! same cells in the same order, averages summed in f64.

use rayon::prelude::*;

use crate::error::Result;
use crate::shape::Window2d;
use crate::specs::Pool2dSpec;
use crate::tensor::Tensor;

/// Channels per task when there are too few output rows to keep every core busy.
const CHANNEL_BLOCK: usize = 64;

/// MaxPooling2D; a NaN in the window wins, as in the reference and Keras.
pub fn max_pool2d(spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
    let g = spec.check(input.shape())?;
    pool(&g, input, true)
}

/// AveragePooling2D over the real cells of each window (padding counts nowhere).
pub fn avg_pool2d(spec: &Pool2dSpec, input: &Tensor) -> Result<Tensor> {
    let g = spec.check(input.shape())?;
    pool(&g, input, false)
}

fn pool(g: &Window2d, input: &Tensor, max: bool) -> Result<Tensor> {
    let [_, in_h, in_w, channels] = g.input;
    let [batch, out_h, out_w, _] = g.output;
    let x = input.data();
    // Tasks: one output row of one example, split into channel blocks when rows are few
    // (global pooling has one row per example).
    let rows = batch * out_h;
    let blocks = if rows >= 2 * rayon::current_num_threads() {
        1
    } else {
        channels.div_ceil(CHANNEL_BLOCK)
    };
    let width = channels.div_ceil(blocks);
    let parts: Vec<(usize, usize, Vec<f32>)> = (0..rows * blocks)
        .into_par_iter()
        .map(|task| {
            let (row, block) = (task / blocks, task % blocks);
            let (n, oy) = (row / out_h, row % out_h);
            let c0 = (block * width).min(channels);
            let c1 = (c0 + width).min(channels);
            let mut out = Vec::with_capacity(out_w * (c1 - c0));
            let mut acc = vec![0.0f64; c1 - c0];
            let mut best = vec![0.0f32; c1 - c0];
            for ox in 0..out_w {
                acc.fill(0.0);
                best.fill(f32::NEG_INFINITY);
                let mut cells = 0usize;
                for ky in g.rows_inside(oy) {
                    let Some(iy) = g.input_row(oy, ky) else {
                        continue;
                    };
                    for kx in g.cols_inside(ox) {
                        let Some(ix) = g.input_col(ox, kx) else {
                            continue;
                        };
                        let at = ((n * in_h + iy) * in_w + ix) * channels;
                        let cell = &x[at + c0..at + c1];
                        cells += 1;
                        if max {
                            for (m, &v) in best.iter_mut().zip(cell) {
                                // NaN sticks once it is in; otherwise the larger wins,
                                // and +0.0 beats −0.0 (XLA's maximum).
                                let larger = v > *m || (v == *m && v.is_sign_positive());
                                if (v.is_nan() || larger) && !m.is_nan() {
                                    *m = v;
                                }
                            }
                        } else {
                            for (s, &v) in acc.iter_mut().zip(cell) {
                                *s += f64::from(v);
                            }
                        }
                    }
                }
                if max {
                    out.extend_from_slice(&best);
                } else {
                    // Rounded to f32 before dividing: overflows where Keras's sum does.
                    let count = cells.max(1) as f32;
                    out.extend(acc.iter().map(|&s| (s as f32) / count));
                }
            }
            (row, c0, out)
        })
        .collect();
    let mut data = vec![0.0f32; batch * out_h * out_w * channels];
    for (row, c0, part) in parts {
        let span = part.len() / out_w.max(1);
        for (ox, values) in part.chunks_exact(span.max(1)).enumerate() {
            let at = (row * out_w + ox) * channels + c0;
            data[at..at + values.len()].copy_from_slice(values);
        }
    }
    Tensor::new(g.output.to_vec(), data)
}
