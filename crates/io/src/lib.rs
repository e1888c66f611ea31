//! neurite-io: whole-or-nothing file writes, shared by every neurite crate that writes a file
//! (IDX files, model files, ONNX exports, plots, the training run's reports).
//!
//! | item | what |
//! |---|---|
//! | [`write_atomic`] | replace a file with a byte slice |
//! | [`write_atomic_with`] | replace a file with what a closure writes |
//! | [`AtomicFile`] | the steps one by one, for writers that want a path (an image encoder) |
//! | [`WriteError`] | which step failed on which path, with the OS error |
//!
//! Readers of the destination see the old file or the complete new one, never a prefix: the
//! bytes go to a hidden temporary file in the destination's directory (so the rename never
//! crosses file systems), which is flushed to disk, renamed over the destination, and then the
//! directory itself is flushed so the rename survives a power cut. On any error the temporary
//! file is removed and the destination is untouched.

mod atomic_file;
mod error;

pub use atomic_file::{AtomicFile, write_atomic, write_atomic_with};
pub use error::{Step, WriteError};
