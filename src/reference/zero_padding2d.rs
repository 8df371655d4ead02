use crate::error::Result;
use crate::tensor::Tensor;

/// ZeroPadding2D on the CPU: `[[top, bottom], [left, right]]` rows and columns of zeros around
/// each NHWC image.
pub fn zero_padding2d(input: &Tensor, padding: [[usize; 2]; 2]) -> Result<Tensor> {
    let [batch, h, w, c] = crate::shape::nhwc("zero_padding2d", input.shape())?;
    let [[top, bottom], [left, right]] = padding;
    let (out_h, out_w) = (h + top + bottom, w + left + right);
    let mut out = vec![0.0f32; batch * out_h * out_w * c];
    for n in 0..batch {
        for y in 0..h {
            let src = ((n * h + y) * w) * c;
            let dst = ((n * out_h + y + top) * out_w + left) * c;
            out[dst..dst + w * c].copy_from_slice(&input.data()[src..src + w * c]);
        }
    }
    Tensor::new(vec![batch, out_h, out_w, c], out)
}
