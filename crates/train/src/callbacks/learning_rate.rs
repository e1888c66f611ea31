//! Callbacks that change the learning rate between epochs.

use neurite_optim::{MonitorMode, Plateau, PlateauConfig};
use neurite_tensor::Float;

use super::{Context, monitored};
use crate::{Callback, EpochLogs, Result, TrainError};

/// Sets the learning rate at the start of every epoch from `schedule(epoch, current_rate)`
/// (Keras `LearningRateScheduler`; `epoch` counts from 0 as in Keras).
///
/// ```
/// use neurite_train::LearningRateScheduler;
/// // Halve the rate every 10 epochs.
/// let halving = LearningRateScheduler::new(|epoch, lr| if epoch > 0 && epoch % 10 == 0 { lr / 2.0 } else { lr });
/// ```
pub struct LearningRateScheduler {
    schedule: Box<dyn FnMut(usize, f64) -> f64 + Send>,
}

impl LearningRateScheduler {
    /// A scheduler calling `schedule(epoch, current_rate)`.
    pub fn new(schedule: impl FnMut(usize, f64) -> f64 + Send + 'static) -> Self {
        LearningRateScheduler {
            schedule: Box::new(schedule),
        }
    }
}

impl std::fmt::Debug for LearningRateScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearningRateScheduler")
            .finish_non_exhaustive()
    }
}

impl<F: Float> Callback<F> for LearningRateScheduler {
    fn name(&self) -> &'static str {
        "LearningRateScheduler"
    }

    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_, F>) -> Result<()> {
        let rate = (self.schedule)(epoch - 1, ctx.optimizer.learning_rate());
        ctx.optimizer
            .set_learning_rate(rate)
            .map_err(|e| TrainError::Callback {
                callback: "LearningRateScheduler",
                detail: format!("epoch {epoch}: {e}"),
            })
    }
}

/// Lowers the learning rate when `monitor` stops improving (Keras `ReduceLROnPlateau`), with
/// Keras' defaults (factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0) and its
/// counting rules (see [`neurite_optim::Plateau`]). The direction is inferred from the name as
/// for the other callbacks ("acc" or "auc" in it: higher is better) unless set with
/// [`ReduceLROnPlateau::mode`]. Settings are checked when training begins.
///
/// ```
/// use neurite_train::ReduceLROnPlateau;
/// let reduce = ReduceLROnPlateau::new("val_accuracy").factor(0.5).patience(2).min_lr(1e-5);
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    monitor: String,
    config: PlateauConfig,
    plateau: Option<Plateau>,
}

impl ReduceLROnPlateau {
    /// Watches `monitor` with Keras' default settings.
    pub fn new(monitor: impl Into<String>) -> Self {
        let monitor = monitor.into();
        let config = PlateauConfig {
            mode: MonitorMode::infer(&monitor),
            ..PlateauConfig::default()
        };
        ReduceLROnPlateau {
            monitor,
            config,
            plateau: None,
        }
    }

    neurite_tensor::builder_setters! {
        in config;
        /// The rate is multiplied by `factor` when lowered, in [0, 1) (Keras `factor`).
        factor: f64,
        /// Epochs without improvement before the rate is lowered (Keras `patience`).
        patience: usize,
        /// The least change that counts as an improvement, >= 0 (Keras `min_delta`).
        min_delta: f64,
        /// Epochs after a reduction during which waiting is suspended (Keras `cooldown`).
        cooldown: usize,
        /// The rate is never lowered below `min_lr`, >= 0 (Keras `min_lr`).
        min_lr: f64,
        /// Overrides the inferred direction.
        mode: MonitorMode,
    }
}

impl<F: Float> Callback<F> for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        let plateau = Plateau::new(self.config.clone()).map_err(|e| TrainError::Callback {
            callback: "ReduceLROnPlateau",
            detail: e.to_string(),
        })?;
        self.plateau = Some(plateau);
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, F>) -> Result<()> {
        let value = monitored("ReduceLROnPlateau", &self.monitor, logs)?;
        let Some(plateau) = self.plateau.as_mut() else {
            return Ok(());
        };
        if let Some(rate) = plateau.update(value, ctx.optimizer.learning_rate()) {
            ctx.optimizer.set_learning_rate(rate)?;
        }
        Ok(())
    }
}
