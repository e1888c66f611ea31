//! Callbacks: code that runs at the edges of epochs and batches during `fit`.

mod checkpoint;
mod csv_logger;
mod early_stopping;
mod learning_rate;
mod template;

pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CSVLogger;
pub use early_stopping::EarlyStopping;
pub use learning_rate::{LearningRateScheduler, ReduceLROnPlateau};

use neurite_layers::Sequential;
use neurite_optim::Optimizer;
use neurite_tensor::Float;

use crate::{EpochLogs, History, Result};

/// What a callback may look at and change while `fit` runs.
pub struct Context<'a, F: Float> {
    /// The network being trained (read weights, restore a snapshot, save it).
    pub network: &'a mut Sequential<F>,
    /// The optimizer (read or change the learning rate).
    pub optimizer: &'a mut dyn Optimizer<F>,
    /// The last epoch run to its end (see [`crate::Model::epochs_completed`]).
    pub epochs_completed: usize,
    pub(crate) stop: &'a mut Option<String>,
}

impl<F: Float> Context<'_, F> {
    /// Asks `fit` to stop after this epoch (or batch); `reason` ends up in
    /// [`History::stopped_early`].
    pub fn stop_training(&mut self, reason: impl Into<String>) {
        *self.stop = Some(reason.into());
    }

    /// Whether some callback asked to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop.is_some()
    }
}

/// Hooks called by `Model::fit`, all optional. An error from a hook ends `fit` with that error.
///
/// ```
/// use neurite_train::{Callback, Context, EpochLogs, Result};
/// /// Stops as soon as training accuracy passes 99 %.
/// struct GoodEnough;
/// impl Callback<f32> for GoodEnough {
///     fn name(&self) -> &'static str { "GoodEnough" }
///     fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, f32>) -> Result<()> {
///         if logs.get("accuracy").is_some_and(|a| a > 0.99) {
///             ctx.stop_training("accuracy above 0.99");
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Callback<F: Float>: Send {
    /// Name for messages.
    fn name(&self) -> &'static str;

    /// Before the first epoch.
    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        Ok(())
    }

    /// Before each epoch (`epoch` from 1).
    fn on_epoch_begin(&mut self, _epoch: usize, _ctx: &mut Context<'_, F>) -> Result<()> {
        Ok(())
    }

    /// After each batch, with its loss (`step` from 1 within the epoch).
    fn on_batch_end(&mut self, _step: usize, _loss: f64, _ctx: &mut Context<'_, F>) -> Result<()> {
        Ok(())
    }

    /// After each epoch, with its figures (validation included).
    fn on_epoch_end(&mut self, _logs: &EpochLogs, _ctx: &mut Context<'_, F>) -> Result<()> {
        Ok(())
    }

    /// After the last epoch (also after an early stop or an interrupt).
    fn on_train_end(&mut self, _history: &History, _ctx: &mut Context<'_, F>) -> Result<()> {
        Ok(())
    }
}

pub use neurite_optim::MonitorMode;

/// Reads `monitor` from the logs, or fails naming the callback and the names available.
pub(crate) fn monitored(callback: &'static str, monitor: &str, logs: &EpochLogs) -> Result<f64> {
    logs.get(monitor).ok_or_else(|| {
        let mut names = vec![String::from("loss")];
        names.extend(logs.metrics.keys().cloned());
        if logs.val_loss.is_some() {
            names.push(String::from("val_loss"));
            names.extend(logs.val_metrics.keys().map(|k| format!("val_{k}")));
        }
        crate::TrainError::Callback {
            callback,
            detail: format!(
                "monitors `{monitor}`, which this fit does not produce; available: {}",
                names.join(", ")
            ),
        }
    })
}
