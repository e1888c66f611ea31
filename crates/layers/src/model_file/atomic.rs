//! Atomic file replacement: a temporary sibling, flushed, then renamed over the target.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ModelFileError;

/// Writes `bytes` to `path` so that readers see the old file or the complete new one, never a
/// prefix. On failure the temporary file is removed and `path` is untouched.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelFileError> {
    write_atomic_via(path, bytes, |file, bytes| file.write_all(bytes))
}

/// As [`write_atomic`], with the bytes written by `fill` (tests inject failing writes here).
fn write_atomic_via(
    path: &Path,
    bytes: &[u8],
    fill: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<(), ModelFileError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let Some(name) = path.file_name() else {
        return Err(ModelFileError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"),
        });
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp: PathBuf = path.with_file_name(format!(
        ".{}.{}.{n}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelFileError::Io { path, source }
    };
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io(&temp))?;
        fill(&mut file, bytes).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        fs::rename(&temp, path).map_err(io(path))
    })();
    if result.is_err() {
        // Best effort: the temporary file may never have been created.
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;
    use std::io::{Error, ErrorKind};

    const ENOSPC: i32 = 28;
    const EIO: i32 = 5;

    /// Writes in 64-byte pieces and fails the `fail_at`-th with the OS error `code`.
    fn failing(fail_at: usize, code: i32) -> impl FnOnce(&mut File, &[u8]) -> std::io::Result<()> {
        move |file, bytes| {
            for (i, piece) in bytes.chunks(64).enumerate() {
                if i + 1 == fail_at {
                    return Err(Error::from_raw_os_error(code));
                }
                file.write_all(piece)?;
            }
            Ok(())
        }
    }

    /// A model file overwritten by another model, with the disk full (ENOSPC) or failing (EIO)
    /// at every one of the new file's writes in turn: each time the error names the file, the
    /// previous model still loads bit for bit, and no temporary file is left.
    #[test]
    fn every_failed_write_keeps_the_previous_model() {
        let dir = std::env::temp_dir().join(format!("neurite-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        let old = models::xor::<f32>(1);
        old.save(&path).unwrap();
        let old_bytes = fs::read(&path).unwrap();
        let new_bytes = models::mlp::<f32>(2).to_safetensors(None).unwrap();
        let pieces = new_bytes.len().div_ceil(64);
        // Every piece of the small header and a spread through the 400 KB of weights.
        let points: Vec<usize> = (1..=40)
            .chain((41..=pieces).step_by(97))
            .chain([pieces])
            .collect();
        let mut injected = 0;
        for code in [ENOSPC, EIO] {
            for &fail_at in &points {
                let err = write_atomic_via(&path, &new_bytes, failing(fail_at, code)).unwrap_err();
                let ModelFileError::Io { source, .. } = &err else {
                    panic!("expected an I/O error, got {err}");
                };
                assert_eq!(source.raw_os_error(), Some(code));
                if code == ENOSPC {
                    assert_eq!(source.kind(), ErrorKind::StorageFull);
                }
                assert!(err.to_string().contains("model.safetensors"), "{err}");
                assert_eq!(
                    fs::read(&path).unwrap(),
                    old_bytes,
                    "the old file survives whole"
                );
                let names: Vec<_> = fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                assert_eq!(names, ["model.safetensors"], "no temporary file left");
                injected += 1;
            }
        }
        println!("{injected} injected write failures, the previous model intact after each");
        assert!(injected > 100, "{injected} injected failures");
        crate::Sequential::<f32>::load(&path).unwrap();
        write_atomic_via(&path, &new_bytes, failing(usize::MAX, EIO)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), new_bytes);
        fs::remove_dir_all(&dir).unwrap();
    }
}
