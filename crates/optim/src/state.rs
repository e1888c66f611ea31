//! An optimizer's saved state: its step count, its current rate and its per-parameter slots.

use neurite_tensor::{Float, Tensor};

/// Everything an optimizer needs to resume training exactly where it stopped.
///
/// Tensors are named `<param>/<slot>`, e.g. `dense_1.weight/momentum`, with the slot names
/// Keras uses (`momentum`, `velocity`, `velocity_hat`, `average_gradient`, `accumulator`).
/// Model files store the tensors (safetensors) and the scalars (header metadata).
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<F: Float> {
    /// The optimizer that saved the state ([`crate::Optimizer::name`]).
    pub optimizer: String,
    /// Updates done so far (Keras `iterations`); schedules and Adam's bias correction use it.
    pub iterations: u64,
    /// The learning rate the next update would use (a constant rate may have been lowered by a
    /// callback; for a scheduled rate this is informative only).
    pub learning_rate: f64,
    /// The slot tensors, sorted by name.
    pub tensors: Vec<(String, Tensor<F>)>,
}
