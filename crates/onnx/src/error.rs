//! `OnnxError`: why a model could not be exported.

use std::path::PathBuf;

use neurite_layers::LayerError;
use thiserror::Error;

/// Export failed; nothing was written.
#[derive(Debug, Error)]
pub enum OnnxError {
    /// The model has not been built, so its input shape (part of the ONNX graph) is unknown.
    #[error("the model is not built: call build(input_shape) before exporting")]
    NotBuilt,
    /// A layer (or a setting of it) has no faithful ONNX equivalent.
    #[error("layer {layer} cannot be exported to ONNX: {reason}; hint: {hint}")]
    Unsupported {
        /// The layer's description, e.g. `MaxPooling2D(2x2) 'pool'`.
        layer: String,
        /// What ONNX lacks.
        reason: String,
        /// How to make the model exportable.
        hint: String,
    },
    /// A parameter the exporter needs is absent or has an unexpected shape.
    #[error("layer '{layer}': parameter '{param}' {problem}")]
    Param {
        /// Layer name.
        layer: String,
        /// Parameter name (`weight`, `moving_mean`, ...).
        param: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A value does not fit in the exported element type (f32).
    #[error("tensor '{tensor}' holds {value:e}, which is not a finite f32; hint: {hint}")]
    NotFinite {
        /// The tensor's name in the graph.
        tensor: String,
        /// The offending value.
        value: f64,
        /// What to check.
        hint: &'static str,
    },
    /// Two values of the graph would share a name.
    #[error("the ONNX graph would contain two values named '{name}'; hint: {hint}")]
    DuplicateName {
        /// The repeated name.
        name: String,
        /// Which option or layer name to change.
        hint: &'static str,
    },
    /// An export option has an unusable value.
    #[error("export option {option} = {value:?} is invalid: {reason}")]
    Option {
        /// The option.
        option: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// The model rejected its own shapes.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// Writing the file failed (the destination is left as it was).
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl From<neurite_io::WriteError> for OnnxError {
    fn from(e: neurite_io::WriteError) -> Self {
        OnnxError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// Result of a neurite-onnx operation.
pub type Result<T> = std::result::Result<T, OnnxError>;
