//! Whole-or-nothing writes of the run's JSON and HTML outputs: a hidden temporary file in the
//! same directory, flushed, then renamed over the target. On any failure (a full disk, an I/O
//! error) the previous file, if any, is untouched and the temporary file is removed.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_via(path, bytes, |file, bytes| file.write_all(bytes))
}

/// As [`write_atomic`], with the bytes written by `fill` (tests inject failing writes here).
fn write_atomic_via(
    path: &Path,
    bytes: &[u8],
    fill: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let temp = temp_sibling(path)?;
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .with_context(|| format!("creating {}", temp.display()))?;
        fill(&mut file, bytes).with_context(|| format!("writing {}", path.display()))?;
        file.sync_all()
            .with_context(|| format!("flushing {} to disk", path.display()))?;
        fs::rename(&temp, path)
            .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))
    })();
    if result.is_err() {
        // Best effort: creating the temporary file may itself have failed.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// `dir/.name.<pid>.<n>.tmp`: hidden, unique per call, beside the target so the rename stays
/// on one file system.
fn temp_sibling(path: &Path) -> anyhow::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(
        ".{}.{}.{n}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    /// Writes in 16-byte pieces and fails the `fail_at`-th piece with `error` (ENOSPC, EIO).
    fn failing(fail_at: usize, error: i32) -> impl FnOnce(&mut File, &[u8]) -> std::io::Result<()> {
        move |file, bytes| {
            for (i, piece) in bytes.chunks(16).enumerate() {
                if i + 1 == fail_at {
                    return Err(Error::from_raw_os_error(error));
                }
                file.write_all(piece)?;
            }
            Ok(())
        }
    }

    /// Every write of a 200-byte file failing in turn, with ENOSPC and with EIO: the old file
    /// survives whole and no temporary file is left (2 x 13 injected failures).
    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_nothing() {
        const ENOSPC: i32 = 28;
        const EIO: i32 = 5;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        write_atomic(&path, b"{\"old\": true}").unwrap();
        let new = vec![b'x'; 200];
        let mut injected = 0;
        for error in [ENOSPC, EIO] {
            for fail_at in 1..=new.len().div_ceil(16) {
                let err = write_atomic_via(&path, &new, failing(fail_at, error)).unwrap_err();
                let chain = format!("{err:#}");
                assert!(chain.contains("metrics.json"), "{chain}");
                let kind = err.root_cause().downcast_ref::<Error>().map(Error::kind);
                if error == ENOSPC {
                    assert_eq!(kind, Some(ErrorKind::StorageFull), "{chain}");
                }
                assert_eq!(fs::read(&path).unwrap(), b"{\"old\": true}");
                let names: Vec<_> = fs::read_dir(dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                assert_eq!(names, ["metrics.json"], "no temporary file left");
                injected += 1;
            }
        }
        assert_eq!(injected, 26);
        // And a write that succeeds replaces the file.
        write_atomic_via(&path, &new, failing(usize::MAX, ENOSPC)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), new);
    }
}
