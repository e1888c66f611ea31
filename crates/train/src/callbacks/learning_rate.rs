//! Callbacks that change the learning rate between epochs.

use neurite_optim::{Plateau, PlateauConfig};
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

/// Lowers the learning rate when `monitor` stops improving (Keras `ReduceLROnPlateau`); the
/// counting rules are those of [`neurite_optim::Plateau`].
///
/// ```
/// use neurite_optim::PlateauConfig;
/// use neurite_train::ReduceLROnPlateau;
/// let reduce = ReduceLROnPlateau::new("val_loss", PlateauConfig { factor: 0.5, patience: 2, ..Default::default() }).unwrap();
/// ```
pub struct ReduceLROnPlateau {
    monitor: String,
    plateau: Plateau,
}

impl ReduceLROnPlateau {
    /// Watches `monitor` with the given settings (set `config.mode` with
    /// `PlateauMode::infer(monitor)` for Keras' "auto").
    ///
    /// # Errors
    /// Invalid settings (a factor outside [0, 1), a negative delta, ...).
    pub fn new(monitor: impl Into<String>, config: PlateauConfig) -> Result<Self> {
        Ok(ReduceLROnPlateau {
            monitor: monitor.into(),
            plateau: Plateau::new(config)?,
        })
    }
}

impl<F: Float> Callback<F> for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.plateau.reset();
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, F>) -> Result<()> {
        let value = monitored("ReduceLROnPlateau", &self.monitor, logs)?;
        if let Some(rate) = self.plateau.update(value, ctx.optimizer.learning_rate()) {
            ctx.optimizer.set_learning_rate(rate)?;
        }
        Ok(())
    }
}
