//! `LossError`: bad predictions or targets handed to a loss.

use thiserror::Error;

/// A loss was given predictions or targets it cannot score.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LossError {
    /// Predictions and targets do not have compatible shapes.
    #[error("{loss}: expected {expected}; got predictions {pred:?} and targets {target:?}: {hint}")]
    Shape {
        /// The loss, e.g. `sparse_categorical_crossentropy`.
        loss: &'static str,
        /// What the loss accepts.
        expected: &'static str,
        /// The predictions' shape.
        pred: Vec<usize>,
        /// The targets' shape.
        target: Vec<usize>,
        /// What would fix it.
        hint: &'static str,
    },
    /// A target value is not acceptable (a label beyond the classes, a NaN, ...).
    #[error("{loss}: target in row {row} is {value}: {reason}")]
    Target {
        /// The loss.
        loss: &'static str,
        /// The sample (index along the batch axis).
        row: usize,
        /// The offending value.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// A hyper-parameter outside its valid range (Huber's delta, say).
    #[error("{loss}: invalid {name} = {value}: {reason}")]
    Config {
        /// The loss.
        loss: &'static str,
        /// The hyper-parameter.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// `gradient_wrt_logits` was asked of a loss that has no fused form for the model's output
    /// activation.
    #[error("{loss}: no fused gradient for a model ending in '{activation}'")]
    NotFusable {
        /// The loss.
        loss: &'static str,
        /// The model's output activation.
        activation: String,
    },
}

/// Result of a loss computation.
pub type Result<T> = std::result::Result<T, LossError>;
