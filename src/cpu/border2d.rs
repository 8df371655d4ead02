//! ZeroPadding2D and Cropping2D on all cores. The reference decides cell by cell; here each
//! output row is one task: zeros, one copy of the input row's kept span, zeros. The values
//! are the reference's exactly (they are copies).

use rayon::prelude::*;

use crate::error::Result;
use crate::shape::Border2d;
use crate::tensor::Tensor;

/// Pads (with zeros) or crops every image of `input` as `plan` says.
pub fn border2d(plan: &Border2d, input: &Tensor) -> Result<Tensor> {
    let [batch, h, w, c] = crate::shape::nhwc("border2d", input.shape())?;
    let [oh, ow, _] = plan.output;
    let x = input.data();
    // The output columns that come from the input: one contiguous span, the same in every row.
    let kept: Vec<usize> = (0..ow).filter(|&ox| plan.input_col(ox).is_some()).collect();
    let span = match (kept.first(), kept.last()) {
        (Some(&first), Some(&last)) => plan.input_col(first).map(|ix| (first, last + 1, ix)),
        _ => None,
    };
    let row_len = ow * c;
    let mut out = vec![0.0f32; batch * oh * row_len];
    if row_len > 0 {
        out.par_chunks_mut(row_len)
            .enumerate()
            .for_each(|(row, dst)| {
                let (n, oy) = (row / oh, row % oh);
                let (Some(iy), Some((first, end, ix))) = (plan.input_row(oy), span) else {
                    return;
                };
                let src = ((n * h + iy) * w + ix) * c;
                dst[first * c..end * c].copy_from_slice(&x[src..src + (end - first) * c]);
            });
    }
    Tensor::new(vec![batch, oh, ow, c], out)
}
