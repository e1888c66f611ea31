//! The one error of an atomic write: the step, the path and the operating system's error.

use std::fmt;
use std::path::PathBuf;

/// The step of an atomic write that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Creating the temporary file beside the destination.
    Create,
    /// Writing the new contents.
    Write,
    /// Flushing the file or its directory to disk.
    Sync,
    /// Renaming the temporary file over the destination.
    Rename,
}

impl Step {
    /// A verb phrase for messages: "create a temporary file for", "write", ...
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "create a temporary file for",
            Step::Write => "write",
            Step::Sync => "sync",
            Step::Rename => "rename a temporary file to",
        }
    }
}

/// An atomic write that failed; the destination is untouched.
#[derive(Debug)]
pub struct WriteError {
    /// The destination.
    pub path: PathBuf,
    /// What was being done.
    pub step: Step,
    /// The operating system's error (ENOSPC reads as `ErrorKind::StorageFull`).
    pub source: std::io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not {} {}: {}",
            self.step.as_str(),
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<WriteError> for std::io::Error {
    /// The OS error with the step and path in its message (its kind is kept).
    fn from(e: WriteError) -> Self {
        std::io::Error::new(e.source.kind(), e.to_string())
    }
}
