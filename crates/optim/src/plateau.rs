//! The logic of Keras' `ReduceLROnPlateau`, as a plain state machine: a monitored value goes in,
//! a lowered learning rate comes out when the value has stopped improving.

use serde::{Deserialize, Serialize};

use crate::error::{Result, check_non_negative, check_range};

/// Whether a monitored value should go down (a loss) or up (an accuracy): the direction of
/// `ReduceLROnPlateau`, `EarlyStopping` and `ModelCheckpoint`.
///
/// ```
/// use neurite_optim::MonitorMode;
/// assert_eq!(MonitorMode::infer("val_accuracy"), MonitorMode::Max);
/// assert_eq!(MonitorMode::infer("auc"), MonitorMode::Max);
/// assert_eq!(MonitorMode::infer("val_loss"), MonitorMode::Min);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MonitorMode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

impl MonitorMode {
    /// Keras' `mode="auto"`: `Max` when the monitored name contains "acc" (accuracies) or
    /// "auc", else `Min` (losses, errors).
    pub fn infer(monitor: &str) -> Self {
        if monitor.contains("acc") || monitor.contains("auc") {
            MonitorMode::Max
        } else {
            MonitorMode::Min
        }
    }
}

/// Settings of [`Plateau`], with Keras' defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauConfig {
    /// Whether lower or higher values are better.
    pub mode: MonitorMode,
    /// The rate is multiplied by this when it is lowered, in [0, 1) (default 0.1).
    pub factor: f64,
    /// Epochs without improvement before the rate is lowered (default 10).
    pub patience: usize,
    /// The least change that counts as an improvement, >= 0 (default 1e-4).
    pub min_delta: f64,
    /// Epochs after a reduction during which waiting is suspended (default 0).
    pub cooldown: usize,
    /// The rate is never lowered below this, >= 0 (default 0).
    pub min_lr: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: MonitorMode::Min,
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
        }
    }
}

/// Lowers the learning rate when a monitored value stops improving (Keras `ReduceLROnPlateau`).
///
/// Call [`Plateau::update`] once per epoch with the monitored value and the current rate; it
/// returns the new rate when the rate should be lowered.
///
/// ```
/// use neurite_optim::{Plateau, PlateauConfig};
/// let mut p = Plateau::new(PlateauConfig { patience: 1, factor: 0.5, ..Default::default() })?;
/// assert_eq!(p.update(1.0, 0.1), None); // first value: an improvement
/// assert_eq!(p.update(1.0, 0.1), Some(0.05)); // no improvement for `patience` epochs
/// # Ok::<(), neurite_optim::OptimError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Plateau {
    config: PlateauConfig,
    best: f64,
    wait: usize,
    cooldown_counter: usize,
}

impl Plateau {
    /// A checked plateau detector.
    pub fn new(config: PlateauConfig) -> Result<Self> {
        const NAME: &str = "ReduceLROnPlateau";
        check_range(NAME, "factor", config.factor, 0.0, 1.0, true)?;
        check_non_negative(NAME, "min_delta", config.min_delta, false)?;
        check_non_negative(NAME, "min_lr", config.min_lr, false)?;
        let mut p = Plateau {
            config,
            best: 0.0,
            wait: 0,
            cooldown_counter: 0,
        };
        p.reset();
        Ok(p)
    }

    /// Forgets the best value and the counters (Keras does this when training begins).
    pub fn reset(&mut self) {
        self.best = match self.config.mode {
            MonitorMode::Min => f64::INFINITY,
            MonitorMode::Max => f64::NEG_INFINITY,
        };
        self.wait = 0;
        self.cooldown_counter = 0;
    }

    /// The settings.
    pub fn config(&self) -> &PlateauConfig {
        &self.config
    }

    /// The best value seen since the last reset.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Epochs waited without improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// Feeds one epoch's monitored value and the current rate; returns the lowered rate when it
    /// is time to lower it. A NaN value never counts as an improvement.
    pub fn update(&mut self, current: f64, learning_rate: f64) -> Option<f64> {
        let c = &self.config;
        let in_cooldown = self.cooldown_counter > 0;
        if in_cooldown {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        let improved = match c.mode {
            MonitorMode::Min => current < self.best - c.min_delta,
            MonitorMode::Max => current > self.best + c.min_delta,
        };
        if improved {
            self.best = current;
            self.wait = 0;
            return None;
        }
        // Keras tests the cooldown again after decrementing it.
        if self.cooldown_counter > 0 {
            return None;
        }
        self.wait += 1;
        if self.wait >= c.patience && learning_rate > c.min_lr {
            let new_lr = (learning_rate * c.factor).max(c.min_lr);
            self.cooldown_counter = c.cooldown;
            self.wait = 0;
            return Some(new_lr);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_after_patience_then_respects_cooldown_and_floor() {
        let config = PlateauConfig {
            factor: 0.5,
            patience: 2,
            cooldown: 1,
            min_lr: 0.03,
            ..PlateauConfig::default()
        };
        let mut p = Plateau::new(config).unwrap();
        let mut lr = 0.1;
        let mut trace = Vec::new();
        for loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9] {
            if let Some(new) = p.update(loss, lr) {
                lr = new;
            }
            trace.push(lr);
        }
        // Epochs: 1.0 best; 0.9 best; wait 1; wait 2 -> 0.05 with cooldown 1; the cooldown ends
        // in the same epoch it is counted down (as in Keras), so wait 1; wait 2 -> max(0.025,
        // 0.03) = 0.03; then the rate sits at min_lr and is never lowered again.
        assert_eq!(
            trace,
            vec![0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03]
        );
    }

    #[test]
    fn max_mode_and_min_delta() {
        let config = PlateauConfig {
            mode: MonitorMode::infer("val_accuracy"),
            patience: 1,
            min_delta: 0.01,
            ..PlateauConfig::default()
        };
        let mut p = Plateau::new(config).unwrap();
        assert_eq!(p.update(0.5, 1.0), None);
        assert_eq!(p.best(), 0.5);
        // +0.005 is below min_delta: not an improvement.
        assert_eq!(p.update(0.505, 1.0), Some(0.1));
        assert_eq!(p.update(0.6, 0.1), None);
        assert_eq!(p.best(), 0.6);
        assert_eq!(p.update(f64::NAN, 0.1), Some(0.010000000000000002));
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = |c: PlateauConfig| Plateau::new(c).is_err();
        assert!(bad(PlateauConfig {
            factor: 1.0,
            ..Default::default()
        }));
        assert!(bad(PlateauConfig {
            factor: -0.1,
            ..Default::default()
        }));
        assert!(bad(PlateauConfig {
            min_delta: -1.0,
            ..Default::default()
        }));
        assert!(bad(PlateauConfig {
            min_lr: f64::NAN,
            ..Default::default()
        }));
    }
}
