//! Cosine decay with optional linear warm-up, as Keras 3's `CosineDecay` defines it.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::{Result, check_non_negative, check_range};

/// Cosine decay from a start rate to `alpha` times that rate over `decay_steps`, optionally after
/// a linear warm-up.
///
/// Without warm-up (`warmup_target = None`), with `s = min(step, decay_steps)`:
/// `lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`.
///
/// With warm-up, the rate first rises linearly from `initial_learning_rate` to `warmup_target`
/// over `warmup_steps` (`initial + (target - initial) * step / warmup_steps`), then decays as
/// above from `warmup_target`, with `s = min(step, warmup_steps + decay_steps) - warmup_steps`.
///
/// ```
/// use neurite_optim::{CosineDecay, LearningRateSchedule};
/// let s = CosineDecay::new(0.1, 100, 0.0);
/// assert!((s.learning_rate(50) - 0.05).abs() < 1e-12);
/// assert_eq!(s.learning_rate(1000), 0.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosineDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// The length of the decay (> 0).
    pub decay_steps: u64,
    /// The final rate as a fraction of the rate the decay starts from, in [0, 1].
    pub alpha: f64,
    /// The rate reached at the end of the warm-up; `None` for no warm-up.
    pub warmup_target: Option<f64>,
    /// The length of the warm-up (used only with a `warmup_target`).
    pub warmup_steps: u64,
}

impl CosineDecay {
    /// Keras' `CosineDecay(initial_learning_rate, decay_steps, alpha)`, without warm-up. The
    /// values are checked by [`CosineDecay::validate`], which the optimizer's validation calls.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, alpha: f64) -> Self {
        CosineDecay {
            initial_learning_rate,
            decay_steps,
            alpha,
            warmup_target: None,
            warmup_steps: 0,
        }
    }

    /// Adds a linear warm-up to `warmup_target` over `warmup_steps` steps.
    pub fn with_warmup(mut self, warmup_target: f64, warmup_steps: u64) -> Self {
        self.warmup_target = Some(warmup_target);
        self.warmup_steps = warmup_steps;
        self
    }

    /// Checks the fields (a deserialized schedule has not been through `new`).
    pub fn validate(&self) -> Result<()> {
        const NAME: &str = "CosineDecay";
        check_non_negative(
            NAME,
            "initial_learning_rate",
            self.initial_learning_rate,
            false,
        )?;
        check_non_negative(NAME, "decay_steps", self.decay_steps as f64, true)?;
        check_range(NAME, "alpha", self.alpha, 0.0, 1.0, false)?;
        if let Some(target) = self.warmup_target {
            check_non_negative(NAME, "warmup_target", target, false)?;
        }
        Ok(())
    }

    fn decay(&self, step: f64, from: f64) -> f64 {
        let fraction = step / self.decay_steps as f64;
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * fraction).cos());
        from * ((1.0 - self.alpha) * cosine + self.alpha)
    }
}

impl LearningRateSchedule for CosineDecay {
    fn learning_rate(&self, step: u64) -> f64 {
        let decay_steps = self.decay_steps as f64;
        let Some(target) = self.warmup_target else {
            return self.decay((step as f64).min(decay_steps), self.initial_learning_rate);
        };
        let warmup_steps = self.warmup_steps as f64;
        let step = (step as f64).min(decay_steps + warmup_steps);
        if step < warmup_steps {
            let fraction = step / warmup_steps;
            (target - self.initial_learning_rate) * fraction + self.initial_learning_rate
        } else {
            self.decay(step - warmup_steps, target)
        }
    }

    fn name(&self) -> String {
        "CosineDecay".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_along_half_a_cosine_to_alpha() {
        // lr(t) = 0.1 * (0.9 * 0.5 * (1 + cos(pi t / 1000)) + 0.1)
        let s = CosineDecay::new(0.1, 1000, 0.1);
        assert_eq!(s.learning_rate(0), 0.1);
        // t = 250: cos(pi/4) = 0.7071067811865476 -> 0.5 * 1.7071067811865476 = 0.8535533905932738
        // 0.9 * 0.8535533905932738 + 0.1 = 0.8681980515339464 -> 0.08681980515339464
        assert!((s.learning_rate(250) - 0.08681980515339464).abs() < 1e-15);
        // t = 500: cos(pi/2) = 0 -> 0.1 * (0.45 + 0.1) = 0.055
        assert!((s.learning_rate(500) - 0.055).abs() < 1e-15);
        // t >= 1000 stays at alpha * initial = 0.01
        assert!((s.learning_rate(1000) - 0.01).abs() < 1e-15);
        assert!((s.learning_rate(5000) - 0.01).abs() < 1e-15);
    }

    #[test]
    fn warmup_rises_linearly_then_decays_from_the_target() {
        // Keras 3: initial 0, warmup_target 0.1 over 100 steps, then cosine over 1000 steps.
        let s = CosineDecay::new(0.0, 1000, 0.0).with_warmup(0.1, 100);
        assert_eq!(s.learning_rate(0), 0.0);
        assert!((s.learning_rate(25) - 0.025).abs() < 1e-15);
        assert!((s.learning_rate(100) - 0.1).abs() < 1e-15);
        // step 600 -> decay step 500 -> 0.1 * 0.5 * (1 + cos(pi/2)) = 0.05
        assert!((s.learning_rate(600) - 0.05).abs() < 1e-15);
        assert!(s.learning_rate(1100).abs() < 1e-15);
        assert!(s.learning_rate(99_999).abs() < 1e-15);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(CosineDecay::new(0.1, 0, 0.0).validate().is_err());
        assert!(CosineDecay::new(0.1, 10, 1.5).validate().is_err());
        let warmup = CosineDecay::new(0.1, 10, 0.0).with_warmup(-1.0, 5);
        assert!(warmup.validate().is_err());
    }
}
