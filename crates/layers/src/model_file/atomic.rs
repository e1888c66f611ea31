//! Atomic file replacement: a temporary sibling, flushed, then renamed over the target.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ModelFileError;

/// Writes `bytes` to `path` so that readers see the old file or the complete new one, never a
/// prefix. On failure the temporary file is removed and `path` is untouched.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelFileError> {
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
        file.write_all(bytes).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        fs::rename(&temp, path).map_err(io(path))
    })();
    if result.is_err() {
        // Best effort: the temporary file may never have been created.
        let _ = fs::remove_file(&temp);
    }
    result
}
