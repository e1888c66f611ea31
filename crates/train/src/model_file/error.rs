//! `ModelFileError`: why a model file could not be written or read.

use std::path::PathBuf;

use thiserror::Error;

use neurite_layers::LayerError;

/// Saving or loading a model file failed. Loading never returns a partly loaded model, and
/// saving never leaves a partly written file.
#[derive(Debug, Error)]
pub enum ModelFileError {
    /// The operating system refused a read, write or rename.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (truncated, corrupt header, bad offsets).
    #[error("{path}: not a readable safetensors file: {reason}; hint: {hint}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        reason: String,
        /// What probably happened.
        hint: &'static str,
    },
    /// A valid safetensors file that is not a neurite model, or from an incompatible version.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is missing or unsupported.
        reason: String,
    },
    /// The architecture JSON cannot be turned into a model (unknown layer, bad field).
    #[error("{path}: architecture: {reason}")]
    Architecture {
        /// The file.
        path: PathBuf,
        /// The parser's or the model builder's message.
        reason: String,
    },
    /// The tensors do not match the architecture (missing, extra, wrong shape or type).
    #[error("{path}: tensor '{tensor}' {problem}")]
    Tensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        problem: String,
    },
    /// The model cannot be saved as it is.
    #[error("cannot save the model: {reason}")]
    Model {
        /// Why.
        reason: String,
    },
    /// The file holds a network but not what `Model::load` needs to compile it.
    #[error("{path}: {reason}")]
    NotCompiled {
        /// The file.
        path: PathBuf,
        /// What is missing and what to call instead.
        reason: String,
    },
    /// The model rejected its own configuration while being rebuilt.
    #[error("{path}: {source}")]
    Layer {
        /// The file.
        path: PathBuf,
        /// The layer's error (boxed: it is large and rare).
        source: Box<LayerError>,
    },
}

impl From<neurite_io::WriteError> for ModelFileError {
    fn from(e: neurite_io::WriteError) -> Self {
        ModelFileError::Io {
            path: e.path,
            source: e.source,
        }
    }
}
