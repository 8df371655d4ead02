//! Keras `UpSampling2D(size, interpolation)`: nearest (each cell repeated) or bilinear
//! (`jax.image.resize`: half-pixel centres).

use super::config::Config;
use super::shapes::hwc;
use super::Layer;
use crate::error::Result;
use crate::gpu::kernels::emit_resize2d;
use crate::gpu::Lowering;
use crate::shape::plan_scale;
use crate::tensor::Tensor;

/// `UpSampling2D(size=(2, 2), interpolation='nearest')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpSampling2d {
    /// Factor per axis.
    pub size: [usize; 2],
    /// Bilinear instead of nearest.
    pub bilinear: bool,
}

impl UpSampling2d {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>) -> Result<Self> {
        c.check_keys(&["size", "data_format", "interpolation"])?;
        c.channels_last()?;
        let bilinear = match c.str("interpolation")?.unwrap_or("nearest") {
            "nearest" => false,
            "bilinear" => true,
            other => {
                return Err(c.error(format!(
                    "interpolation '{other}' is not supported (nearest, bilinear)"
                )))
            }
        };
        Ok(Self {
            size: c.pair("size", Some([2, 2]))?,
            bilinear,
        })
    }
}

/// The two source cells and the second one's weight for output cell `o` of a bilinear resize
/// from `n_in` to `n_out` cells: half-pixel centres, clamped at the edges.
fn taps(o: usize, n_in: usize, n_out: usize) -> (usize, usize, f64) {
    let src = (o as f64 + 0.5) * n_in as f64 / n_out as f64 - 0.5;
    let lo = src.floor();
    let clamp = |i: f64| (i.max(0.0) as usize).min(n_in - 1);
    (clamp(lo), clamp(lo + 1.0), src - lo)
}

impl Layer for UpSampling2d {
    fn class_name(&self) -> &'static str {
        "UpSampling2D"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let [h, w, c] = hwc("upsampling2d", inputs[0])?;
        Ok(vec![
            plan_scale("upsampling2d", h, self.size[0])?,
            plan_scale("upsampling2d", w, self.size[1])?,
            c,
        ])
    }

    fn explain(&self, inputs: &[&[usize]], output: &[usize]) -> Vec<String> {
        vec![
            format!(
                "height: out = {} × {} = {}",
                inputs[0][0], self.size[0], output[0]
            ),
            format!(
                "width: out = {} × {} = {}",
                inputs[0][1], self.size[1], output[1]
            ),
            "params = 0".into(),
        ]
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let [n, h, w, c] = crate::shape::nhwc("upsampling2d", x.shape())?;
        let out = self.output_shape(&[&[h, w, c]])?;
        let (oh, ow) = (out[0], out[1]);
        let at = |b: usize, y: usize, xx: usize, ch: usize| {
            f64::from(x.data()[((b * h + y) * w + xx) * c + ch])
        };
        let mut data = Vec::with_capacity(n * oh * ow * c);
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..c {
                        let v = if self.bilinear {
                            let (y0, y1, wy) = taps(oy, h, oh);
                            let (x0, x1, wx) = taps(ox, w, ow);
                            let top = at(b, y0, x0, ch) * (1.0 - wx) + at(b, y0, x1, ch) * wx;
                            let bottom = at(b, y1, x0, ch) * (1.0 - wx) + at(b, y1, x1, ch) * wx;
                            top * (1.0 - wy) + bottom * wy
                        } else {
                            at(b, oy / self.size[0], ox / self.size[1], ch)
                        };
                        data.push(v as f32);
                    }
                }
            }
        }
        Tensor::new(vec![n, oh, ow, c], data)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let shape = hwc("upsampling2d", l.input_shape(0))?;
        let x = l.input(0);
        let out = l.output()?;
        emit_resize2d(l.builder(), shape, self.size, self.bilinear, x, out)
    }
}
