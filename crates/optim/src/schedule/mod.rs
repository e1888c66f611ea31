//! Learning-rate schedules: the rate as a function of the optimizer's step count.
//!
//! An optimizer asks its schedule for the rate before every update, passing the number of updates
//! already done (0 for the first), as Keras does with `optimizer.iterations`.

mod cosine;
mod exponential;
mod piecewise;

use std::fmt::Debug;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use cosine::CosineDecay;
pub use exponential::ExponentialDecay;
pub use piecewise::PiecewiseConstant;

use crate::error::{Result, check_non_negative};

/// A learning rate that depends on the step: implement it for a custom schedule.
///
/// ```
/// use neurite_optim::LearningRateSchedule;
/// #[derive(Debug)]
/// struct InverseTime(f64);
/// impl LearningRateSchedule for InverseTime {
///     fn learning_rate(&self, step: u64) -> f64 { self.0 / (step as f64 + 1.0) }
///     fn name(&self) -> String { "InverseTime".into() }
/// }
/// assert_eq!(InverseTime(0.1).learning_rate(1), 0.05);
/// ```
pub trait LearningRateSchedule: Debug + Send + Sync {
    /// The rate for the update that follows `step` completed updates.
    fn learning_rate(&self, step: u64) -> f64;

    /// A short name for messages and model files (`ExponentialDecay`, ...).
    fn name(&self) -> String;
}

/// A built-in schedule, or a custom one behind an `Arc`.
///
/// Built-in schedules serialize (serde) so a model file can record them; a `Custom` schedule
/// cannot be serialized and makes serialization fail with an error.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Schedule {
    /// [`ExponentialDecay`].
    ExponentialDecay(ExponentialDecay),
    /// [`PiecewiseConstant`].
    PiecewiseConstant(PiecewiseConstant),
    /// [`CosineDecay`].
    CosineDecay(CosineDecay),
    /// Any user schedule.
    #[serde(skip)]
    Custom(Arc<dyn LearningRateSchedule>),
}

impl Schedule {
    /// Checks the schedule's parameters (built-in schedules; a custom one is trusted here and its
    /// rates are checked at every step instead).
    pub fn validate(&self) -> Result<()> {
        match self {
            Schedule::ExponentialDecay(s) => s.validate(),
            Schedule::PiecewiseConstant(s) => s.validate(),
            Schedule::CosineDecay(s) => s.validate(),
            Schedule::Custom(_) => Ok(()),
        }
    }
}

impl LearningRateSchedule for Schedule {
    fn learning_rate(&self, step: u64) -> f64 {
        match self {
            Schedule::ExponentialDecay(s) => s.learning_rate(step),
            Schedule::PiecewiseConstant(s) => s.learning_rate(step),
            Schedule::CosineDecay(s) => s.learning_rate(step),
            Schedule::Custom(s) => s.learning_rate(step),
        }
    }

    fn name(&self) -> String {
        match self {
            Schedule::ExponentialDecay(s) => s.name(),
            Schedule::PiecewiseConstant(s) => s.name(),
            Schedule::CosineDecay(s) => s.name(),
            Schedule::Custom(s) => s.name(),
        }
    }
}

/// An optimizer's learning rate: a constant (which callbacks may change) or a schedule.
///
/// ```
/// use neurite_optim::{ExponentialDecay, LearningRate};
/// let constant: LearningRate = 1e-3.into();
/// assert_eq!(constant.at(500), 1e-3);
/// let decayed: LearningRate = ExponentialDecay::new(0.1, 100, 0.5).into();
/// assert!((decayed.at(100) - 0.05).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LearningRate {
    /// The same rate at every step.
    Constant(f64),
    /// A rate that follows a schedule.
    Schedule(Schedule),
}

impl LearningRate {
    /// The rate for the update that follows `step` completed updates.
    pub fn at(&self, step: u64) -> f64 {
        match self {
            LearningRate::Constant(lr) => *lr,
            LearningRate::Schedule(s) => s.learning_rate(step),
        }
    }

    /// Checks a constant rate (finite, >= 0) or the schedule's parameters.
    pub fn validate(&self, optimizer: &'static str) -> Result<()> {
        match self {
            LearningRate::Constant(lr) => {
                check_non_negative(optimizer, "learning_rate", *lr, false)
            }
            LearningRate::Schedule(s) => s.validate(),
        }
    }

    /// Wraps a custom schedule.
    pub fn custom(schedule: impl LearningRateSchedule + 'static) -> Self {
        LearningRate::Schedule(Schedule::Custom(Arc::new(schedule)))
    }
}

impl From<f64> for LearningRate {
    fn from(lr: f64) -> Self {
        LearningRate::Constant(lr)
    }
}

impl From<Schedule> for LearningRate {
    fn from(s: Schedule) -> Self {
        LearningRate::Schedule(s)
    }
}

impl From<ExponentialDecay> for LearningRate {
    fn from(s: ExponentialDecay) -> Self {
        LearningRate::Schedule(Schedule::ExponentialDecay(s))
    }
}

impl From<PiecewiseConstant> for LearningRate {
    fn from(s: PiecewiseConstant) -> Self {
        LearningRate::Schedule(Schedule::PiecewiseConstant(s))
    }
}

impl From<CosineDecay> for LearningRate {
    fn from(s: CosineDecay) -> Self {
        LearningRate::Schedule(Schedule::CosineDecay(s))
    }
}
