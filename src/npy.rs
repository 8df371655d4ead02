//! `.npy` files in and out: float32, C order, any rank — the format Keras users get from
//! `np.save` — and `.npz` archives of them (`np.savez`) for models with several inputs or
//! outputs.

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

/// Parses a model input's `.npy` data from any reader, as [`read_npy_input`] reads a file;
/// `label` names it in errors.
pub fn parse_npy_input(
    reader: impl Read,
    label: impl AsRef<Path>,
    integers: bool,
) -> Result<Tensor> {
    parse(reader, label.as_ref(), integers)
}

/// The longest header accepted. NumPy writes a few hundred bytes (and itself refuses more than
/// 10,000 by default); a format 2 header may claim up to 4 GB.
const MAX_HEADER: usize = 64 * 1024;

/// Reads the magic, version and header of a `.npy` and checks the header before npyz parses
/// it: no longer than [`MAX_HEADER`], and brackets nested at most a few deep (npyz's header
/// grammar takes exponential time on deeply nested brackets: a 200-byte file hung it). Returns
/// the bytes read, to be parsed again in full.
fn read_header(reader: &mut impl Read, path: &Path) -> Result<Vec<u8>> {
    let corrupt = |m: &str| npy_error(path, format!("not a valid .npy file: {m}"));
    let mut prefix = [0u8; 8];
    reader
        .read_exact(&mut prefix)
        .map_err(|_| corrupt("too short for the .npy magic"))?;
    if &prefix[..6] != b"\x93NUMPY" {
        return Err(corrupt("no .npy magic"));
    }
    let mut bytes = prefix.to_vec();
    let len = match prefix[6] {
        1 => {
            let mut l = [0u8; 2];
            reader
                .read_exact(&mut l)
                .map_err(|_| corrupt("truncated header length"))?;
            bytes.extend_from_slice(&l);
            usize::from(u16::from_le_bytes(l))
        }
        2 | 3 => {
            let mut l = [0u8; 4];
            reader
                .read_exact(&mut l)
                .map_err(|_| corrupt("truncated header length"))?;
            bytes.extend_from_slice(&l);
            u32::from_le_bytes(l) as usize
        }
        v => return Err(corrupt(&format!("unknown format version {v}"))),
    };
    if len > MAX_HEADER {
        return Err(corrupt(&format!(
            "a {len}-byte header (at most {MAX_HEADER})"
        )));
    }
    let start = bytes.len();
    bytes.resize(start + len, 0);
    reader
        .read_exact(&mut bytes[start..])
        .map_err(|_| corrupt("truncated header"))?;
    let mut depth = 0usize;
    for &b in &bytes[start..] {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > 4 {
                    return Err(corrupt("brackets nested too deeply in the header"));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(bytes)
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

fn parse(mut reader: impl Read, path: &Path, integers: bool) -> Result<Tensor> {
    let header = read_header(&mut reader, path)?;
    let npy = npyz::NpyFile::new(std::io::Cursor::new(header).chain(reader))
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

/// Where an output `.npy` goes, decided (and checked) before the work that produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    /// `-`: standard output.
    Stdout,
    /// A regular file (existing or new; symlinks resolved to their target): written to a
    /// temporary file beside it and renamed over it, so a failure leaves no partial output.
    File(PathBuf),
    /// Something else that exists — a device such as `/dev/null`, a FIFO: written through,
    /// never replaced.
    Special(PathBuf),
}

impl OutputTarget {
    /// Resolves `path` and checks it can be written: its directory exists and takes a new
    /// file, or it is a non-directory that exists. `-` means standard output.
    pub fn prepare(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            return Ok(Self::Stdout);
        }
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |message: &str| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                message.to_string(),
            ))
        };
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Err(invalid("is a directory")),
            Ok(m) if m.is_file() => {
                // A symlink is followed to the file it names (which is replaced, the link
                // kept); any other path stays as given, as for a new file.
                let is_link = std::fs::symlink_metadata(path).is_ok_and(|l| l.is_symlink());
                let resolved = if is_link {
                    std::fs::canonicalize(path).map_err(io)?
                } else {
                    path.to_path_buf()
                };
                probe(&resolved).map_err(io)?;
                Ok(Self::File(resolved))
            }
            Ok(_) => Ok(Self::Special(path.to_path_buf())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A new file, or a symlink to one that does not exist yet.
                let target = match std::fs::read_link(path) {
                    Ok(link) => path.parent().unwrap_or(Path::new("")).join(link),
                    Err(_) => path.to_path_buf(),
                };
                let parent = target
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "its directory does not exist",
                    )));
                }
                probe(&target).map_err(io)?;
                Ok(Self::File(target))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Writes `tensor` here as a float32 C-order `.npy`.
    pub fn write(&self, tensor: &Tensor) -> Result<()> {
        self.write_with(|out| encode(out, tensor))
    }

    /// Writes `arrays` here as an `.npz` archive, as `np.savez` does: one stored (uncompressed)
    /// `NAME.npy` member per array, in order, so `np.load(path)[NAME]` reads each back.
    ///
    /// Each NAME must be a safe file stem ([`crate::names::is_safe_stem`]; map names with
    /// [`crate::names::unique_file_stems`]) and unique up to case: a member named `../x.npy`
    /// would be written outside the directory of whoever unzips the archive.
    pub fn write_npz(&self, arrays: &[(&str, &Tensor)]) -> Result<()> {
        let mut seen = std::collections::HashSet::with_capacity(arrays.len());
        for (name, _) in arrays {
            if !crate::names::is_safe_stem(name) {
                return Err(npy_error(
                    self.path(),
                    format!(
                        "'{name}' is no safe .npz member name (it would be '{}')",
                        crate::names::file_stem(name)
                    ),
                ));
            }
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(npy_error(
                    self.path(),
                    format!("two .npz members would be named '{name}' (up to case)"),
                ));
            }
        }
        let bytes = npz_bytes(arrays).map_err(|source| Error::Io {
            path: self.path().to_path_buf(),
            source,
        })?;
        self.write_with(|out| out.write_all(&bytes))
    }

    /// The path as given (`-` for standard output).
    pub fn path(&self) -> &Path {
        match self {
            Self::Stdout => Path::new("-"),
            Self::File(path) | Self::Special(path) => path,
        }
    }

    /// Writes what `fill` writes here: through for standard output, devices and FIFOs, and
    /// for a regular file into a temporary file renamed over it once complete.
    fn write_with(&self, fill: impl Fn(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
        let io = |source| Error::Io {
            path: self.path().to_path_buf(),
            source,
        };
        match self {
            Self::Stdout => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                fill(&mut out).and_then(|()| out.flush()).map_err(io)
            }
            Self::Special(path) => {
                let file = File::options().write(true).open(path).map_err(io)?;
                let mut out = BufWriter::new(file);
                fill(&mut out).and_then(|()| out.flush()).map_err(io)
            }
            Self::File(path) => {
                let tmp = partial_name(path);
                let result = (|| {
                    let mut out = BufWriter::new(File::create(&tmp)?);
                    fill(&mut out)?;
                    out.flush()?;
                    drop(out);
                    std::fs::rename(&tmp, path)
                })();
                if result.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                result.map_err(io)
            }
        }
    }
}

/// An `.npz` archive in memory: a zip of stored `NAME.npy` members, like `np.savez`.
fn npz_bytes(arrays: &[(&str, &Tensor)]) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, tensor) in arrays {
        let mut member = Vec::new();
        encode(&mut member, tensor)?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(member.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(format!("{name}.npy"), options)?;
        zip.write_all(&member)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Reads every array of an `.npz` archive (`np.savez` or `np.savez_compressed`), in archive
/// order, each named as NumPy names it: the member's name without `.npy` (`arr_0`, `arr_1`, …
/// for arrays saved without names). `integers(name)` says which arrays may hold integer ids
/// (see [`read_npy_input`]); all others must be float32. Members are decoded as they are
/// inflated, so an archive's declared sizes are never trusted for allocation.
pub fn read_npz(
    path: impl AsRef<Path>,
    integers: impl Fn(&str) -> bool,
) -> Result<Vec<(String, Tensor)>> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let corrupt = |e: zip::result::ZipError| npy_error(path, format!("not a valid .npz file: {e}"));
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(corrupt)?;
    let mut arrays = Vec::with_capacity(archive.len());
    // Names seen so far: a set, so that an archive of many members is not quadratic.
    let mut names = std::collections::HashSet::new();
    for i in 0..archive.len() {
        let member = archive.by_index(i).map_err(corrupt)?;
        if member.is_dir() {
            continue;
        }
        let member_name = member.name().map_err(corrupt)?.to_string();
        let name = member_name
            .strip_suffix(".npy")
            .unwrap_or(&member_name)
            .to_string();
        if !names.insert(name.clone()) {
            return Err(npy_error(path, format!("the archive holds '{name}' twice")));
        }
        let label = PathBuf::from(format!("{}[{member_name}]", path.display()));
        let tensor = parse(BufReader::new(member), &label, integers(&name))?;
        arrays.push((name, tensor));
    }
    Ok(arrays)
}

/// The temporary file written beside `path` before the rename.
fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Checks that a file can be created beside `path` (permissions, read-only file systems),
/// before any work is done for it.
fn probe(path: &Path) -> std::io::Result<()> {
    let tmp = partial_name(path);
    File::create(&tmp)?;
    std::fs::remove_file(&tmp)
}

fn encode(out: &mut dyn Write, tensor: &Tensor) -> std::io::Result<()> {
    let shape: Vec<u64> = tensor.shape().iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(out)
        .begin_nd()?;
    writer.extend(tensor.data().iter().copied())?;
    writer.finish()
}

/// Writes `tensor` as a float32 C-order `.npy` file: see [`OutputTarget`] for how (a regular
/// file is replaced atomically; a device or FIFO is written through; `-` is standard output).
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    OutputTarget::prepare(path)?.write(tensor)
}
