//! Errors for everything a caller can get wrong when building or stepping an optimizer.

use thiserror::Error;

/// A hyper-parameter, a parameter list or a saved state that an optimizer cannot accept.
///
/// Every variant names the optimizer or schedule (`optimizer`, `schedule`) so a message read far
/// from the call still says where it came from. A failed call changes no parameter value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptimError {
    // === Hyper-parameters ===
    /// A hyper-parameter outside its valid range (a negative learning rate, `beta_1 = 1`, ...).
    #[error("{optimizer}: invalid {name} = {value}: {reason}")]
    InvalidHyperParameter {
        /// The optimizer, schedule or helper being built (`Adam`, `ExponentialDecay`, ...).
        optimizer: &'static str,
        /// The hyper-parameter's name, as in the config struct.
        name: &'static str,
        /// The value given.
        value: String,
        /// What the value must be.
        reason: String,
    },
    /// The learning rate follows a schedule, so it cannot be set to a constant.
    #[error(
        "{optimizer}: the learning rate follows the schedule {schedule}, so it cannot be set \
         directly; hint: build the optimizer with a constant learning rate if a callback \
         (ReduceLROnPlateau, LearningRateScheduler) must change it"
    )]
    ScheduledLearningRate {
        /// The optimizer.
        optimizer: &'static str,
        /// The schedule's name.
        schedule: String,
    },
    /// A learning-rate schedule returned a negative or non-finite rate.
    #[error("{optimizer}: the learning-rate schedule {schedule} returned {value} at step {step}")]
    BadScheduledRate {
        /// The optimizer.
        optimizer: &'static str,
        /// The schedule's name.
        schedule: String,
        /// The step it was asked for.
        step: u64,
        /// The rate it returned.
        value: f64,
    },

    // === Parameters given to a step ===
    /// Two parameters with the same name in one step: they would share moment estimates.
    #[error(
        "{optimizer}: parameter `{param}` appears twice in one step; hint: give every parameter \
         of a model a unique name (layers prefix theirs: `dense_1.weight`)"
    )]
    DuplicateParam {
        /// The optimizer.
        optimizer: &'static str,
        /// The repeated name.
        param: String,
    },
    /// A parameter whose gradient does not have its value's shape.
    #[error(
        "{optimizer}: parameter `{param}` has value shape {value:?} but gradient shape {grad:?}"
    )]
    GradShape {
        /// The optimizer.
        optimizer: &'static str,
        /// The parameter's name.
        param: String,
        /// The value's shape.
        value: Vec<usize>,
        /// The gradient's shape.
        grad: Vec<usize>,
    },
    /// The optimizer holds state for a parameter of this name, but of another shape.
    #[error(
        "{optimizer}: state `{param}/{slot}` has shape {state:?} but parameter `{param}` has \
         shape {param_shape:?}; hint: the state was saved for a different model"
    )]
    StateShape {
        /// The optimizer.
        optimizer: &'static str,
        /// The parameter's name.
        param: String,
        /// The slot (`momentum`, `velocity`, ...).
        slot: &'static str,
        /// The state tensor's shape.
        state: Vec<usize>,
        /// The parameter's shape.
        param_shape: Vec<usize>,
    },

    /// A user-defined optimizer's config ([`crate::OptimizerConfig::Custom`]) cannot build the
    /// optimizer by itself.
    #[error(
        "the optimizer `{class_name}` is user-defined, so its saved config cannot build it; hint: register a constructor for `{class_name}` (neurite_train::model_file::Registry::optimizer)"
    )]
    Unregistered {
        /// The class name the config records.
        class_name: String,
    },

    // === Loading state ===
    /// The state was saved by another kind of optimizer, or with other slots.
    #[error("{optimizer}: cannot load state saved by {saved}; hint: {hint}")]
    StateKind {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The optimizer named in the state.
        saved: String,
        /// What to do about it.
        hint: String,
    },
    /// A state tensor whose name is not `<param>/<slot>` for a slot this optimizer keeps.
    #[error(
        "{optimizer}: state tensor `{tensor}` is not `<param>/<slot>` with slot one of {slots:?}"
    )]
    UnknownStateTensor {
        /// The optimizer.
        optimizer: &'static str,
        /// The tensor's name.
        tensor: String,
        /// The slots this optimizer keeps per parameter.
        slots: Vec<&'static str>,
    },
    /// A parameter whose state lacks a slot, repeats one, or has slots of different shapes.
    #[error("{optimizer}: inconsistent state for parameter `{param}`: {detail}")]
    InconsistentState {
        /// The optimizer.
        optimizer: &'static str,
        /// The parameter's name.
        param: String,
        /// What is wrong.
        detail: String,
    },
}

/// Result of a neurite-optim operation.
pub type Result<T> = std::result::Result<T, OptimError>;

impl OptimError {
    pub(crate) fn invalid(
        optimizer: &'static str,
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        OptimError::InvalidHyperParameter {
            optimizer,
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// Checks `low <= x <= high` (or `< high` when `high_open`), rejecting NaN.
pub(crate) fn check_range(
    optimizer: &'static str,
    name: &'static str,
    x: f64,
    low: f64,
    high: f64,
    high_open: bool,
) -> Result<()> {
    let ok = x >= low && if high_open { x < high } else { x <= high };
    if ok {
        Ok(())
    } else {
        let close = if high_open { ")" } else { "]" };
        Err(OptimError::invalid(
            optimizer,
            name,
            x,
            format!("must be in [{low}, {high}{close}"),
        ))
    }
}

/// Checks that `x` is finite and `>= 0` (or `> 0` when `strict`).
pub(crate) fn check_non_negative(
    optimizer: &'static str,
    name: &'static str,
    x: f64,
    strict: bool,
) -> Result<()> {
    let ok = x.is_finite() && if strict { x > 0.0 } else { x >= 0.0 };
    if ok {
        Ok(())
    } else {
        let what = if strict {
            "a finite number > 0"
        } else {
            "a finite number >= 0"
        };
        Err(OptimError::invalid(
            optimizer,
            name,
            x,
            format!("must be {what}"),
        ))
    }
}
