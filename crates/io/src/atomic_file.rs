//! The atomic write itself: a temporary sibling, fsync, rename, fsync the directory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::{Step, WriteError};

/// A new version of a file being written beside it; it replaces the file only on
/// [`AtomicFile::commit`]. Dropped without a commit, it removes itself and the destination is
/// untouched.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("notes.txt");
/// let mut file = neurite_io::AtomicFile::create(&path).unwrap();
/// file.file().write_all(b"all or nothing").unwrap();
/// assert!(!path.exists(), "nothing is visible before the commit");
/// file.commit().unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"all or nothing");
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file for `path` in `path`'s directory: hidden (`.name.XXXXXX.tmp`)
    /// and ending in `path`'s extension too, for encoders that choose the format by it.
    ///
    /// # Errors
    /// [`Step::Create`]: a path that names no file, a missing or read-only directory.
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let fail = |source| WriteError {
            path: path.to_path_buf(),
            step: Step::Create,
            source,
        };
        let name = path.file_name().ok_or_else(|| {
            fail(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path names no file (it ends in '..' or is empty)",
            ))
        })?;
        let suffix = match path.extension() {
            Some(ext) => format!(".tmp.{}", ext.to_string_lossy()),
            None => String::from(".tmp"),
        };
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(&suffix)
            .tempfile_in(parent_dir(path))
            .map_err(fail)?;
        Ok(AtomicFile {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// The temporary file, to write the new contents into.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// The temporary file's path, for writers that open the file themselves.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the new contents to disk, renames them over the destination, then flushes the
    /// directory so that the rename itself is durable.
    ///
    /// # Errors
    /// [`Step::Sync`] or [`Step::Rename`] (a directory in the way); the temporary file is removed.
    pub fn commit(self) -> Result<(), WriteError> {
        let path = self.path;
        let fail = |step| {
            let path = path.clone();
            move |source| WriteError { path, step, source }
        };
        // The file may have been written through `temp_path` by another handle: sync what is on
        // disk under that name, not only what this handle wrote.
        File::open(self.temp.path())
            .and_then(|f| f.sync_all())
            .map_err(fail(Step::Sync))?;
        self.temp
            .persist(&path)
            .map_err(|e| fail(Step::Rename)(e.error))?;
        sync_dir(&parent_dir(&path)).map_err(fail(Step::Sync))
    }
}

/// Replaces `path` with `bytes`, atomically.
///
/// # Errors
/// A [`WriteError`] naming `path` and the failed step; `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Replaces `path` with what `fill` writes (buffered), atomically.
///
/// # Errors
/// A [`WriteError`] naming `path` and the failed step (an error of `fill` is [`Step::Write`]);
/// `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let mut file = AtomicFile::create(path)?;
    let written = {
        let mut out = BufWriter::new(file.file());
        fill(&mut out).and_then(|()| out.flush())
    };
    written.map_err(|source| WriteError {
        path: path.to_path_buf(),
        step: Step::Write,
        source,
    })?;
    file.commit()
}

/// The directory that holds `path` (the current directory for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Flushes a directory's entries (the rename) to disk. Only Unix can open a directory as a
/// file; elsewhere the rename is as durable as the platform makes it.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
