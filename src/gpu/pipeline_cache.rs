//! Compiled pipelines kept between runs: wgpu's [`wgpu::PipelineCache`] (Vulkan only in
//! wgpu 30), read from a file beside the autotune cache when the device opens and written back
//! after compiling. Without it every process compiles each kernel's pipeline again.
//!
//! The file is wgpu's data behind a header of wgcnn's own: a magic number, the data's length and
//! its FNV-1a hash. wgpu checks that data it is given was made for this adapter and driver and
//! has the recorded length, but not its bytes, and a driver handed damaged bytes may fail in
//! ways wgpu cannot catch. A file that is missing, too large, unreadable or fails the check is
//! not used, and the next save replaces it. Saving writes a temporary file in the same directory
//! and renames it over the old one, so a reader never sees half a file and concurrent writers
//! each leave a whole one (the last rename wins; what another process compiled and this one
//! did not is compiled again by a later run). Nothing here ever fails an operation: a cache
//! that cannot be read or written is logged and worked without.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::scopes::Scopes;
use crate::hash::fnv1a64;

/// The file's first bytes (the digit is the header's version).
const MAGIC: &[u8; 8] = b"WGCNNPC1";
/// Magic, data length (u64 LE), FNV-1a of the data (u64 LE).
const HEADER: usize = 24;
/// A larger file is not read: pipeline caches of the largest models take a few MB, so this is
/// not one, and reading it whole could exhaust memory.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// Whether compiled pipelines persist between runs on a device ([`crate::Gpu::pipeline_cache`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PipelineCacheStatus {
    /// No pipeline cache on this device: the adapter has none (wgpu 30 offers
    /// `Features::PIPELINE_CACHE` on Vulkan only), or creating it failed (logged).
    Unsupported,
    /// Turned off: [`crate::GpuOptions::pipeline_cache_dir`] is `None`.
    Off,
    /// Pipelines compiled on this device are saved to `file`.
    File {
        /// The cache file, named after the adapter (`wgpu::util::pipeline_cache_key`).
        file: PathBuf,
        /// Bytes of cached data given to the driver when the device was opened: 0 when there
        /// was no usable file (none yet, or unreadable or damaged: the next save replaces it).
        /// wgpu and the driver may still pass over data from another driver version.
        loaded: usize,
    },
}

/// A device's pipeline cache and the file it is kept in.
pub(super) struct DiskCache {
    cache: wgpu::PipelineCache,
    file: PathBuf,
    loaded: usize,
    /// A pipeline was compiled since the last save.
    dirty: AtomicBool,
    /// The hash of the data the file held when last read or written, so that unchanged data is
    /// not written again; its lock also keeps this device's saves one at a time.
    on_disk: Mutex<Option<u64>>,
}

impl DiskCache {
    /// The cache for `device` (which must have `Features::PIPELINE_CACHE`), loaded from its
    /// file in `dir`; `None` if the adapter has no cache key or creating the cache failed.
    pub(super) async fn open(
        device: &wgpu::Device,
        info: &wgpu::AdapterInfo,
        dir: &Path,
    ) -> Option<Self> {
        let file = dir.join(wgpu::util::pipeline_cache_key(info)?);
        let data = read(&file);
        let create = |data: Option<&[u8]>| {
            let scopes = Scopes::push(device);
            // SAFETY: wgpu requires `data` to come from `PipelineCache::get_data`. Only `save`
            // writes this file, with the hash of what `get_data` returned, and `read` hands
            // over only data whose length and hash match: damaged files are refused here, and
            // wgpu itself checks the adapter and driver the data was made for. (As with Mesa's
            // own shader cache, a cache directory that someone else writes into is not guarded
            // against.)
            let cache = unsafe {
                device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                    label: Some("wgcnn pipelines"),
                    data,
                    fallback: true,
                })
            };
            (cache, scopes.pop("pipeline cache"))
        };
        let (cache, check) = create(data.as_ref().map(|(d, _)| d.as_slice()));
        let (cache, used) = match check.await {
            Ok(()) => (cache, data),
            Err(e) => {
                // `fallback` covers outdated data, not data wgpu refuses outright (another
                // adapter's): start empty.
                log::warn!("pipeline cache {} not used: {e}", file.display());
                let (cache, check) = create(None);
                if let Err(e) = check.await {
                    log::warn!("no pipeline cache: {e}");
                    return None;
                }
                (cache, None)
            }
        };
        let loaded = used.as_ref().map_or(0, |(d, _)| d.len());
        log::debug!("pipeline cache {}: {loaded} bytes loaded", file.display());
        Some(Self {
            cache,
            file,
            loaded,
            dirty: AtomicBool::new(false),
            on_disk: Mutex::new(used.map(|(_, hash)| hash)),
        })
    }

    /// The cache, for pipeline descriptors.
    pub(super) fn cache(&self) -> &wgpu::PipelineCache {
        &self.cache
    }

    /// Notes that a pipeline was compiled with the cache, for the next [`DiskCache::save`].
    pub(super) fn compiled(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// What [`crate::Gpu::pipeline_cache`] reports.
    pub(super) fn status(&self) -> PipelineCacheStatus {
        PipelineCacheStatus::File {
            file: self.file.clone(),
            loaded: self.loaded,
        }
    }

    /// Writes the cache to its file if pipelines were compiled since the last save and the
    /// data differs from what the file holds. A failure is logged: the pipelines stay compiled
    /// for this process.
    pub(super) fn save(&self) {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut on_disk = self.on_disk.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let hash = hash(&data);
        if *on_disk == Some(hash) {
            return;
        }
        match write_atomically(&self.file, &encode(&data, hash)) {
            Ok(()) => {
                *on_disk = Some(hash);
                log::debug!(
                    "pipeline cache {}: {} bytes written",
                    self.file.display(),
                    data.len()
                );
            }
            Err(e) => log::warn!("pipeline cache {} not written: {e}", self.file.display()),
        }
    }
}

fn hash(data: &[u8]) -> u64 {
    fnv1a64(data.iter().copied())
}

/// The cached data in `file` and its hash, if it has data that passes the header's checks (a
/// missing file is silently none; an unreadable or damaged one is logged).
fn read(file: &Path) -> Option<(Vec<u8>, u64)> {
    let bytes = match read_capped(file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            log::warn!("pipeline cache {} not read: {e}", file.display());
            return None;
        }
    };
    let data = decode(&bytes);
    if data.is_none() {
        log::warn!(
            "pipeline cache {} is damaged ({} bytes that fail its check); it will be replaced",
            file.display(),
            bytes.len()
        );
    }
    data.map(|(data, hash)| (data.to_vec(), hash))
}

/// `file`'s bytes, unless it holds more than [`MAX_FILE_BYTES`].
fn read_capped(file: &Path) -> std::io::Result<Vec<u8>> {
    let too_large = || {
        std::io::Error::other(format!(
            "more than {} MiB, too large for a pipeline cache",
            MAX_FILE_BYTES >> 20
        ))
    };
    let opened = std::fs::File::open(file)?;
    let len = opened.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The length may have changed since: read at most one byte past the limit to tell.
    opened.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The file's bytes for `data`, whose hash is `hash`.
fn encode(data: &[u8], hash: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER + data.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(data.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&hash.to_le_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The data in a file's bytes and its hash, if the magic, the length and the hash match.
fn decode(bytes: &[u8]) -> Option<(&[u8], u64)> {
    let (header, data) = bytes.split_at_checked(HEADER)?;
    let field = |at: usize| header[at..at + 8].try_into().ok().map(u64::from_le_bytes);
    let recorded = field(16)?;
    let intact = &header[..8] == MAGIC && field(8)? == data.len() as u64 && recorded == hash(data);
    intact.then_some((data, recorded))
}

/// Writes `bytes` to `file` through a temporary file in the same directory, renamed over it.
fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Unique to this process and this save: concurrent writers never share a temporary file.
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp{}-{}",
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_refuses_damaged_data() {
        let data = b"cached pipelines".to_vec();
        let bytes = encode(&data, hash(&data));
        assert_eq!(decode(&bytes), Some((&data[..], hash(&data))));
        // Truncated anywhere, extended, one bit flipped anywhere, or another format: refused.
        for len in 0..bytes.len() {
            assert_eq!(decode(&bytes[..len]), None, "cut to {len}");
        }
        assert_eq!(decode(&[&bytes[..], b"x"].concat()), None);
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert_eq!(decode(&flipped), None, "bit flipped at {at}");
        }
        assert_eq!(decode(&data), None);
    }

    #[test]
    fn files_are_replaced_whole_and_limited_in_size() {
        let dir = std::env::temp_dir().join(format!("wgcnn-pipeline-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("nested").join("cache");
        assert_eq!(read(&file), None);
        write_atomically(&file, &encode(b"one", hash(b"one"))).unwrap();
        write_atomically(&file, &encode(b"two", hash(b"two"))).unwrap();
        assert_eq!(read(&file), Some((b"two".to_vec(), hash(b"two"))));
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(file.parent().unwrap()).unwrap().count(),
            1
        );
        // A file past the limit is not read (a sparse file: no disk space needed).
        std::fs::File::create(&file)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let err = read_capped(&file).unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
        assert_eq!(read(&file), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Data that passes wgcnn's check but that wgpu refuses even with `fallback` (made for
    /// another backend or adapter: a cache file copied from another machine, say) leaves an
    /// empty cache and a healthy device, not an error that fails the next operation.
    #[cfg(feature = "native")]
    #[test]
    fn data_wgpu_refuses_leaves_an_empty_cache_and_a_healthy_device() {
        use crate::gpu::kernels::Kernel;
        use crate::gpu::{Gpu, GpuOptions};

        let dir =
            std::env::temp_dir().join(format!("wgcnn-pipeline-refused-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let open = || {
            Gpu::with_options(GpuOptions {
                autotune: false,
                autotune_cache: None,
                pipeline_cache_dir: Some(dir.clone()),
                ..GpuOptions::default()
            })
            .unwrap_or_else(|e| panic!("this test needs a GPU adapter (e.g. Mesa lavapipe): {e}"))
        };
        let gpu = open();
        let PipelineCacheStatus::File { file, .. } = gpu.pipeline_cache() else {
            // Nothing to refuse where the adapter keeps no pipeline cache (GL).
            assert!(!gpu.features().contains(wgpu::Features::PIPELINE_CACHE));
            return;
        };
        gpu.pipeline(Kernel::ALL[0]);
        gpu.save_pipeline_cache();
        let (mut data, _) = read(&file).expect("the saved cache");
        // wgpu's own header: magic (8 bytes), version (4), pointer size (4), then the backend.
        data[16] ^= 0xff;
        std::fs::write(&file, encode(&data, hash(&data))).unwrap();
        let gpu = open();
        assert_eq!(
            gpu.pipeline_cache(),
            PipelineCacheStatus::File {
                file: file.clone(),
                loaded: 0
            }
        );
        gpu.check_health("pipeline cache test").unwrap();
        gpu.pipeline(Kernel::ALL[1]);
        gpu.save_pipeline_cache();
        gpu.check_health("pipeline cache test").unwrap();
        // The refused file was replaced by this device's cache.
        assert_eq!(read(&file).map(|(d, _)| d == data), Some(false));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
