//! `.npy` files in and out: float32, C order, any rank — the format Keras users get from
//! `np.save`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

fn npy_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Npy {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a float32, C-order `.npy` file. Any other dtype or order, a truncated or corrupt file,
/// or a missing file is an [`Error`] naming the file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(BufReader::new(file), path)
}

/// Parses `.npy` data from any reader (an embedded file, say); `label` names it in errors.
pub fn parse_npy(reader: impl Read, label: impl AsRef<Path>) -> Result<Tensor> {
    parse(reader, label.as_ref(), false)
}

/// Reads a model input: float32, or — when the model input is integer (`integers`, token ids
/// for an Embedding) — any integer dtype too, converted exactly to f32 (values beyond ±2^24,
/// which float32 cannot hold exactly, are an error).
pub fn read_npy_input(path: impl AsRef<Path>, integers: bool) -> Result<Tensor> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(BufReader::new(file), path, integers)
}

/// Integer data as exact f32 values.
fn integers_to_f32(path: &Path, values: impl Iterator<Item = i128>) -> Result<Vec<f32>> {
    const EXACT: i128 = 1 << 24;
    values
        .map(|v| {
            if (-EXACT..=EXACT).contains(&v) {
                Ok(v as f32)
            } else {
                Err(npy_error(
                    path,
                    format!("integer {v} is beyond ±2^24, which float32 cannot hold exactly"),
                ))
            }
        })
        .collect()
}

fn parse(reader: impl Read, path: &Path, integers: bool) -> Result<Tensor> {
    let npy = npyz::NpyFile::new(reader)
        .map_err(|e| npy_error(path, format!("not a valid .npy file: {e}")))?;
    let scalar = match npy.dtype() {
        npyz::DType::Plain(ts) => Some((ts.type_char(), ts.size_field())),
        _ => None,
    };
    let integer = matches!(
        scalar,
        Some((npyz::TypeChar::Int | npyz::TypeChar::Uint, 1 | 2 | 4 | 8))
    );
    let is_f32 = scalar == Some((npyz::TypeChar::Float, 4));
    let accepted = is_f32 || (integers && integer);
    if !accepted {
        let wanted = if integers {
            "float32 or integer ids"
        } else {
            "float32 ('<f4'); convert with x.astype(np.float32)"
        };
        return Err(npy_error(
            path,
            format!("dtype is {}, wgcnn needs {wanted}", npy.dtype().descr()),
        ));
    }
    if npy.order() != npyz::Order::C {
        return Err(npy_error(
            path,
            "array is in Fortran order, wgcnn needs C order; save np.ascontiguousarray(x)",
        ));
    }
    let shape = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| npy_error(path, "shape does not fit in memory"))?;
    let read_error = |e: std::io::Error| npy_error(path, format!("could not read the data: {e}"));
    let data = match scalar {
        Some((npyz::TypeChar::Float, 4)) => npy.into_vec::<f32>().map_err(read_error)?,
        Some((npyz::TypeChar::Int, 1)) => {
            let v = npy.into_vec::<i8>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        Some((npyz::TypeChar::Int, 2)) => {
            let v = npy.into_vec::<i16>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        Some((npyz::TypeChar::Int, 4)) => {
            let v = npy.into_vec::<i32>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        Some((npyz::TypeChar::Int, 8)) => {
            let v = npy.into_vec::<i64>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        Some((npyz::TypeChar::Uint, 1)) => {
            let v = npy.into_vec::<u8>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        Some((npyz::TypeChar::Uint, 2)) => {
            let v = npy.into_vec::<u16>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        Some((npyz::TypeChar::Uint, 4)) => {
            let v = npy.into_vec::<u32>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
        _ => {
            let v = npy.into_vec::<u64>().map_err(read_error)?;
            integers_to_f32(path, v.into_iter().map(i128::from))?
        }
    };
    Tensor::new(shape, data).map_err(|e| npy_error(path, e.to_string()))
}

/// Writes `tensor` as a float32 C-order `.npy` file. The data goes to a temporary file beside
/// `path` that is renamed into place at the end, so a failure never leaves a partial output.
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".partial");
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let result = (|| {
        let mut out = BufWriter::new(File::create(&tmp)?);
        let shape: Vec<u64> = tensor.shape().iter().map(|&d| d as u64).collect();
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut out)
            .begin_nd()?;
        writer.extend(tensor.data().iter().copied())?;
        writer.finish()?;
        out.flush()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
