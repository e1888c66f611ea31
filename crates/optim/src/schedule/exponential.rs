//! Exponential decay, as Keras' `ExponentialDecay` defines it.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::{Result, check_non_negative};

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`, with the exponent floored when
/// `staircase` is set (the rate then drops once every `decay_steps` updates).
///
/// ```
/// use neurite_optim::{ExponentialDecay, LearningRateSchedule};
/// let s = ExponentialDecay::new(0.1, 10, 0.5).staircase(true);
/// assert_eq!(s.learning_rate(9), 0.1);
/// assert_eq!(s.learning_rate(10), 0.05);
/// // Values are checked when the optimizer is (at compile), or here:
/// assert!(ExponentialDecay::new(0.1, 0, 0.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExponentialDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// The number of steps over which the rate is multiplied by `decay_rate` (> 0).
    pub decay_steps: u64,
    /// The factor applied every `decay_steps` steps (> 0).
    pub decay_rate: f64,
    /// Whether the rate changes in steps (integer exponent) rather than continuously.
    pub staircase: bool,
}

impl ExponentialDecay {
    /// Keras' `ExponentialDecay(initial_learning_rate, decay_steps, decay_rate)`, continuous
    /// (set [`ExponentialDecay::staircase`] for steps). Valid values are
    /// `initial_learning_rate >= 0`, `decay_steps > 0`, `decay_rate > 0`: checked by
    /// [`ExponentialDecay::validate`], which the optimizer's validation calls.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Self {
        ExponentialDecay {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
        }
    }

    /// Drops the rate once every `decay_steps` updates instead of continuously (Keras
    /// `staircase=True`).
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }

    /// Checks the fields (a deserialized schedule has not been through `new`).
    pub fn validate(&self) -> Result<()> {
        const NAME: &str = "ExponentialDecay";
        check_non_negative(
            NAME,
            "initial_learning_rate",
            self.initial_learning_rate,
            false,
        )?;
        check_non_negative(NAME, "decay_steps", self.decay_steps as f64, true)?;
        check_non_negative(NAME, "decay_rate", self.decay_rate, true)
    }
}

impl LearningRateSchedule for ExponentialDecay {
    fn learning_rate(&self, step: u64) -> f64 {
        let mut p = step as f64 / self.decay_steps as f64;
        if self.staircase {
            p = p.floor();
        }
        self.initial_learning_rate * self.decay_rate.powf(p)
    }

    fn name(&self) -> String {
        "ExponentialDecay".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_keras_formula_at_chosen_steps() {
        // Keras: lr(step) = 0.1 * 0.96 ^ (step / 1000).
        let s = ExponentialDecay::new(0.1, 1000, 0.96);
        assert_eq!(s.learning_rate(0), 0.1);
        // 0.96^0.5 = 0.9797958971132712 -> 0.09797958971132712
        assert!((s.learning_rate(500) - 0.09797958971132712).abs() < 1e-16);
        // 0.96^2.5 = 0.9216 * 0.9797958971132712 = 0.9029798...
        assert!((s.learning_rate(2500) - 0.1 * 0.9216 * 0.9797958971132712).abs() < 1e-16);
    }

    #[test]
    fn staircase_floors_the_exponent() {
        let s = ExponentialDecay::new(0.1, 1000, 0.96).staircase(true);
        assert_eq!(s.learning_rate(999), 0.1);
        assert!((s.learning_rate(1000) - 0.096).abs() < 1e-16);
        assert!((s.learning_rate(2999) - 0.1 * 0.9216).abs() < 1e-16);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(ExponentialDecay::new(0.1, 0, 0.9).validate().is_err());
        assert!(ExponentialDecay::new(-0.1, 10, 0.9).validate().is_err());
        assert!(ExponentialDecay::new(0.1, 10, 0.0).validate().is_err());
        assert!(ExponentialDecay::new(f64::NAN, 10, 0.9).validate().is_err());
    }
}
