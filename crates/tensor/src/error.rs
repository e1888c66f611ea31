//! Errors for everything a caller can get wrong when calling a tensor kernel.

use thiserror::Error;

/// A shape or argument given to a neurite-tensor function was not acceptable.
///
/// Every variant names the operation (`op`) so that a message read far from the call still says
/// where it came from.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TensorError {
    /// The tensor has the wrong number of dimensions.
    #[error("{op}: expected a tensor of rank {expected}, got shape {got:?}")]
    Rank {
        /// The operation that was called.
        op: &'static str,
        /// The rank it needs.
        expected: usize,
        /// The shape it got.
        got: Vec<usize>,
    },
    /// Two shapes that must agree do not.
    #[error("{op}: shape mismatch: {detail}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// Which shapes disagree and how.
        detail: String,
    },
    /// An axis index beyond the tensor's rank.
    #[error("{op}: axis {axis} is out of range for shape {shape:?}")]
    AxisOutOfRange {
        /// The operation that was called.
        op: &'static str,
        /// The axis asked for.
        axis: usize,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// A hyper-parameter outside its valid range (a zero stride, a negative rate, ...).
    #[error("{op}: invalid {name} = {value}: {reason}")]
    InvalidArgument {
        /// The operation that was called.
        op: &'static str,
        /// The argument's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What the argument must be.
        reason: String,
    },
}

/// Result of a neurite-tensor operation.
pub type Result<T> = std::result::Result<T, TensorError>;

impl TensorError {
    pub(crate) fn invalid(
        op: &'static str,
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        TensorError::InvalidArgument {
            op,
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn mismatch(op: &'static str, detail: impl Into<String>) -> Self {
        TensorError::ShapeMismatch {
            op,
            detail: detail.into(),
        }
    }
}
