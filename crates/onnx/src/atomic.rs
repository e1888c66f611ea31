//! Writing a file so that readers see either the old contents or the complete new ones.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{OnnxError, Result};

/// Writes `bytes` to a temporary file next to `path`, flushes it to disk, then renames it over
/// `path` (atomic on POSIX within one directory). On failure the temporary file is removed and
/// `path` is untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_via(path, bytes, |file, bytes| file.write_all(bytes))
}

/// As [`write_atomic`], with the bytes written by `fill` (tests inject failing writes here).
fn write_atomic_via(
    path: &Path,
    bytes: &[u8],
    fill: impl FnOnce(&mut fs::File, &[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let temp = temp_sibling(path)?;
    let result = write_new(&temp, bytes, fill).and_then(|()| {
        fs::rename(&temp, path).map_err(|source| OnnxError::Io {
            path: path.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        // Best effort: the temp file may not exist if creating it failed.
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_new(
    temp: &Path,
    bytes: &[u8],
    fill: impl FnOnce(&mut fs::File, &[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let io = |source| OnnxError::Io {
        path: temp.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io)?;
    fill(&mut file, bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// `dir/.name.<pid>.<n>.tmp`: unique per process and call, hidden, in the target's directory so
/// the rename never crosses file systems.
fn temp_sibling(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let Some(name) = path.file_name() else {
        return Err(OnnxError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path names no file (it ends in '..' or is empty)",
            ),
        });
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(temp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// ENOSPC and EIO at each of the 16 writes of a 1 KiB export in turn: the previous file
    /// survives whole and no temporary file is left (32 injected failures).
    #[test]
    fn a_failing_disk_keeps_the_previous_export() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        write_atomic(&path, b"previous export").unwrap();
        let new = vec![7u8; 1024];
        let mut injected = 0;
        for code in [28, 5] {
            for fail_at in 1..=16 {
                let fill = move |file: &mut fs::File, bytes: &[u8]| {
                    for (i, piece) in bytes.chunks(64).enumerate() {
                        if i + 1 == fail_at {
                            return Err(std::io::Error::from_raw_os_error(code));
                        }
                        file.write_all(piece)?;
                    }
                    Ok(())
                };
                let err = write_atomic_via(&path, &new, fill).unwrap_err();
                assert!(
                    matches!(&err, OnnxError::Io { source, .. } if source.raw_os_error() == Some(code)),
                    "{err}"
                );
                assert_eq!(fs::read(&path).unwrap(), b"previous export");
                assert_eq!(
                    fs::read_dir(dir.path()).unwrap().count(),
                    1,
                    "no temporary file"
                );
                injected += 1;
            }
        }
        assert_eq!(injected, 32);
    }

    #[test]
    fn failure_names_the_path_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("m.onnx");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("missing-dir"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn a_directory_target_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(Path::new(".."), b"x").is_err());
        // Renaming a file over a directory fails; the directory survives and no temp remains.
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(write_atomic(&sub, b"x").is_err());
        assert!(sub.is_dir());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
