use crate::error::Result;
use crate::shape::Border2d;
use crate::tensor::Tensor;

/// ZeroPadding2D and Cropping2D on the CPU: every output cell copies its input cell
/// ([`Border2d::input_row`]/[`Border2d::input_col`]), or is zero in the padding.
pub fn border2d(plan: &Border2d, input: &Tensor) -> Result<Tensor> {
    let [batch, h, w, c] = crate::shape::nhwc("border2d", input.shape())?;
    let [oh, ow, _] = plan.output;
    let x = input.data();
    let mut out = Vec::with_capacity(batch * oh * ow * c);
    for n in 0..batch {
        for oy in 0..oh {
            for ox in 0..ow {
                match (plan.input_row(oy), plan.input_col(ox)) {
                    (Some(iy), Some(ix)) => {
                        let src = ((n * h + iy) * w + ix) * c;
                        out.extend_from_slice(&x[src..src + c]);
                    }
                    _ => out.extend(std::iter::repeat_n(0.0, c)),
                }
            }
        }
    }
    Tensor::new(vec![batch, oh, ow, c], out)
}
