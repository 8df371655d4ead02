//! Image files as model inputs (feature `images`): PNG and JPEG decoded to the float32 pixels
//! Keras's `keras.utils.load_img(path, color_mode=...)` followed by `img_to_array` gives, so
//! that a model trained in Keras on such arrays sees here what it saw there.
//!
//! - Values are the 8-bit samples as floats, 0.0–255.0, in `(height, width, channels)` order;
//!   no scaling or normalisation (a model that wants `[0, 1]` or `[-1, 1]` has a `Rescaling`
//!   layer, or its inputs are prepared before).
//! - The model input's channels choose the colour mode, as `color_mode` does: 3 is RGB (a gray
//!   image repeated in each channel, alpha dropped), 1 grayscale (ITU-R 601-2 luma with Pillow's
//!   rounding, `(19595 R + 38470 G + 7471 B + 32768) >> 16`), 4 RGBA (alpha 255 where the
//!   file has none). Palettes, PNG's `tRNS` transparency and PNG gray samples of 1, 2 or 4 bits
//!   expand as Pillow expands them.
//! - No resizing: an image must have the model input's height and width (Keras resizes only
//!   when given `target_size`; resize the files first). EXIF orientation is not applied,
//!   as Keras does not apply it either.
//! - Refused, with the reason: 16-bit PNGs (Pillow reads 16-bit gray and colour differently),
//!   CMYK and YCCK JPEGs, and images of other formats.
//!
//! PNG samples match Pillow's exactly; JPEG decoders may round the inverse DCT and chroma
//! upsampling differently, so a JPEG pixel can differ from Pillow's (libjpeg-turbo's) by a few
//! levels.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How many channels a model input takes from an image, as Keras's `color_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// One channel: luma.
    Grayscale,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha.
    Rgba,
}

impl ColorMode {
    /// The mode of a model input with `channels` channels (1, 3 or 4), else `None`.
    pub fn from_channels(channels: usize) -> Option<Self> {
        match channels {
            1 => Some(Self::Grayscale),
            3 => Some(Self::Rgb),
            4 => Some(Self::Rgba),
            _ => None,
        }
    }

    /// Channels per pixel.
    pub fn channels(self) -> usize {
        match self {
            Self::Grayscale => 1,
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }
}

/// The image formats [`read_image`] decodes, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// `.png`
    Png,
    /// `.jpg`, `.jpeg`
    Jpeg,
}

impl ImageFormat {
    /// The format a file's extension names (any case), `None` for other files.
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(Self::Png),
            "jpg" | "jpeg" => Some(Self::Jpeg),
            _ => None,
        }
    }
}

/// Decoded 8-bit pixels: `samples` per pixel, 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
struct Pixels {
    height: usize,
    width: usize,
    samples: usize,
    data: Vec<u8>,
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Image {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads the image at `path` as `(height, width, channels)` float32 pixels, 0–255, in `mode`;
/// `size`, when given, is the `(height, width)` the image must have (checked from the header,
/// before any pixel is decoded). See the [module documentation](self) for the conversions.
pub fn read_image(path: &Path, mode: ColorMode, size: Option<[usize; 2]>) -> Result<Tensor> {
    let Some(format) = ImageFormat::of(path) else {
        return Err(bad(path, "not a .png, .jpg or .jpeg file"));
    };
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = BufReader::new(file);
    // The decoders are other crates: a panic on a malformed file becomes this file's error.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
        ImageFormat::Png => decode_png(path, reader, size),
        ImageFormat::Jpeg => decode_jpeg(path, reader, size),
    }))
    .unwrap_or_else(|_| Err(bad(path, "the image decoder failed on this file")))?;
    let pixels = convert(&decoded, mode);
    let shape = vec![decoded.height, decoded.width, mode.channels()];
    Tensor::new(shape, pixels.into_iter().map(f32::from).collect())
}

fn check_size(path: &Path, height: usize, width: usize, size: Option<[usize; 2]>) -> Result<()> {
    match size {
        Some([h, w]) if [h, w] != [height, width] => Err(bad(
            path,
            format!(
                "the image is {height}x{width} (height x width) but the model takes {h}x{w}: \
                 resize the images first (wgcnn does not resize)"
            ),
        )),
        _ => Ok(()),
    }
}

fn decode_png<R: Read + Seek>(
    path: &Path,
    reader: BufReader<R>,
    size: Option<[usize; 2]>,
) -> Result<Pixels> {
    let png_error = |e: png::DecodingError| {
        bad(
            path,
            format!("not a readable PNG file: {}", e.to_string().trim()),
        )
    };
    let mut decoder = png::Decoder::new(reader);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (height, width) = {
        let info = reader.info();
        if info.bit_depth == png::BitDepth::Sixteen {
            return Err(bad(
                path,
                "a 16-bit PNG: wgcnn reads 8-bit images (save it with 8 bits per sample)",
            ));
        }
        (info.height as usize, info.width as usize)
    };
    check_size(path, height, width, size)?;
    let (color, _) = reader.output_color_type();
    let samples = color.samples();
    let Some(len) = reader.output_buffer_size() else {
        return Err(bad(path, "the image is too large"));
    };
    let mut data = vec![0; len];
    let frame = reader.next_frame(&mut data).map_err(png_error)?;
    // One frame of an animated PNG, packed rows of 8-bit samples.
    let row = frame.line_size;
    if row != width * samples || frame.buffer_size() < height * row {
        return Err(bad(path, "unexpected PNG layout after decoding"));
    }
    data.truncate(height * row);
    Ok(Pixels {
        height,
        width,
        samples,
        data,
    })
}

fn decode_jpeg<R: Read + Seek>(
    path: &Path,
    reader: BufReader<R>,
    size: Option<[usize; 2]>,
) -> Result<Pixels> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;

    // zune-jpeg's messages may end in a line break: the error stays one line.
    let jpeg_error = |e: zune_jpeg::errors::DecodeErrors| {
        let message = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        bad(path, format!("not a readable JPEG file: {message}"))
    };
    let mut decoder = zune_jpeg::JpegDecoder::new(reader);
    decoder.decode_headers().map_err(jpeg_error)?;
    let (Some(info), Some(input)) = (decoder.info(), decoder.input_colorspace()) else {
        return Err(bad(path, "not a readable JPEG file"));
    };
    let (height, width) = (usize::from(info.height), usize::from(info.width));
    check_size(path, height, width, size)?;
    // Gray stays gray (Pillow's mode "L"); colour comes out as RGB, as libjpeg gives it.
    let (out, samples) = match input {
        ColorSpace::Luma => (ColorSpace::Luma, 1),
        ColorSpace::YCbCr | ColorSpace::RGB => (ColorSpace::RGB, 3),
        other => {
            return Err(bad(
                path,
                format!("a {other:?} JPEG: wgcnn reads grayscale and RGB (YCbCr) JPEGs"),
            ))
        }
    };
    decoder.set_options(DecoderOptions::default().jpeg_set_out_colorspace(out));
    let mut data = vec![0; height * width * samples];
    decoder.decode_into(&mut data).map_err(jpeg_error)?;
    Ok(Pixels {
        height,
        width,
        samples,
        data,
    })
}

/// Pillow's `convert("L")` of one RGB pixel.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let l = 19595 * u32::from(r) + 38470 * u32::from(g) + 7471 * u32::from(b) + 0x8000;
    // At most (65536 * 255 + 32768) >> 16 = 255.
    u8::try_from(l >> 16).unwrap_or(u8::MAX)
}

/// `pixels` in `mode`, as Pillow converts between its modes.
fn convert(pixels: &Pixels, mode: ColorMode) -> Vec<u8> {
    let out = pixels.height * pixels.width * mode.channels();
    let mut converted = Vec::with_capacity(out);
    for px in pixels.data.chunks_exact(pixels.samples) {
        // (gray, or r g b; alpha)
        let (rgb, alpha) = match *px {
            [l] => ([l, l, l], 255),
            [l, a] => ([l, l, l], a),
            [r, g, b] => ([r, g, b], 255),
            [r, g, b, a] => ([r, g, b], a),
            _ => ([0, 0, 0], 255),
        };
        match mode {
            ColorMode::Grayscale => {
                // A gray image keeps its samples; colour goes through luma.
                let gray = if pixels.samples <= 2 {
                    rgb[0]
                } else {
                    luma(rgb[0], rgb[1], rgb[2])
                };
                converted.push(gray);
            }
            ColorMode::Rgb => converted.extend_from_slice(&rgb),
            ColorMode::Rgba => {
                converted.extend_from_slice(&rgb);
                converted.push(alpha);
            }
        }
    }
    converted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_rounds_as_pillow_does() {
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 255, 255), 255);
        // 0.299 * 255 = 76.245: Pillow's fixed point gives 76.
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
    }

    #[test]
    fn modes_and_formats() {
        assert_eq!(ColorMode::from_channels(3), Some(ColorMode::Rgb));
        assert_eq!(ColorMode::from_channels(2), None);
        assert_eq!(
            ImageFormat::of(Path::new("a/B.JPEG")),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::of(Path::new("x.npy")), None);
        assert_eq!(ImageFormat::of(Path::new("png")), None);
    }
}
