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
    let path = label.as_ref();
    let npy = npyz::NpyFile::new(reader)
        .map_err(|e| npy_error(path, format!("not a valid .npy file: {e}")))?;
    let is_f32 = matches!(
        npy.dtype(),
        npyz::DType::Plain(ts) if ts.type_char() == npyz::TypeChar::Float && ts.size_field() == 4
    );
    if !is_f32 {
        return Err(npy_error(
            path,
            format!(
                "dtype is {}, wgcnn needs float32 ('<f4'); convert with x.astype(np.float32)",
                npy.dtype().descr()
            ),
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
    let data = npy
        .into_vec::<f32>()
        .map_err(|e| npy_error(path, format!("could not read the data: {e}")))?;
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
