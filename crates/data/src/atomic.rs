//! Whole-or-nothing file writes: write a temporary file in the destination's directory, flush it
//! to disk, then rename it over the destination. A crash or error leaves no partial file behind.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// The directory that will hold `path` (the current directory for bare file names).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `path` through `fill`, atomically: on any error the destination is left untouched
/// and the temporary file is removed.
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = parent_dir(path);
    let temp = tempfile::Builder::new()
        .prefix(".neurite-")
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(|e| DataError::io("create a temporary file in", &dir, e))?;
    let mut writer = BufWriter::new(temp);
    fill(&mut writer).map_err(|e| DataError::io("write", path, e))?;
    let temp = writer
        .into_inner()
        .map_err(|e| DataError::io("write", path, e.into_error()))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| DataError::io("sync", path, e))?;
    temp.persist(path)
        .map_err(|e| DataError::io("rename a temporary file to", path, e.error))?;
    Ok(())
}
