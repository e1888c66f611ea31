//! `TrainError`: everything `compile`, `fit`, `evaluate` and `predict` can report.

use thiserror::Error;

/// An error from training, naming where it happened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A layer or the model rejected a shape or a call.
    #[error(transparent)]
    Layer(#[from] neurite_layers::LayerError),
    /// The loss rejected predictions or targets.
    #[error(transparent)]
    Loss(#[from] neurite_losses::LossError),
    /// A model file could not be written or read.
    #[error(transparent)]
    ModelFile(#[from] Box<crate::model_file::ModelFileError>),
    /// The optimizer rejected a step or its state.
    #[error(transparent)]
    Optim(#[from] neurite_optim::OptimError),
    /// The data could not be batched.
    #[error(transparent)]
    Data(#[from] neurite_data::DataError),
    /// A metric rejected a batch.
    #[error(transparent)]
    Metric(#[from] neurite_metrics::MetricError),
    /// The loss became NaN or infinite (Keras' `TerminateOnNaN`); the weights are those of
    /// the step before.
    #[error(
        "the loss became {loss} at epoch {epoch}, step {step}: training stopped (lower the learning rate, or check the inputs for NaN)"
    )]
    NonFiniteLoss {
        /// Epoch number, from 1.
        epoch: usize,
        /// Step within the epoch, from 1.
        step: usize,
        /// The value (NaN or an infinity).
        loss: f64,
    },
    /// An argument of `compile`, `fit`, `evaluate` or `predict` is unusable.
    #[error("{op}: {detail}")]
    Invalid {
        /// The call.
        op: &'static str,
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// A callback failed (it names itself in the message).
    #[error("callback {callback}: {detail}")]
    Callback {
        /// The callback's name.
        callback: &'static str,
        /// What went wrong.
        detail: String,
    },
}

/// Result of a neurite-train operation.
pub type Result<T> = std::result::Result<T, TrainError>;

impl TrainError {
    pub(crate) fn invalid(op: &'static str, detail: impl Into<String>) -> Self {
        TrainError::Invalid {
            op,
            detail: detail.into(),
        }
    }
}
