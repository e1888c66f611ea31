//! `ModelCheckpoint`: save the model to a file during training.

use std::path::PathBuf;

use neurite_tensor::Float;

use super::{Context, Mode, monitored};
use crate::persist::save_network;
use crate::{Callback, EpochLogs, Result};

/// Saves the network and the optimizer's state to `path` after every epoch, or with
/// `save_best_only` only when `monitor` improves (Keras `ModelCheckpoint`). Each save replaces
/// the file atomically, so an interrupted save never leaves a broken checkpoint.
///
/// ```
/// use neurite_train::ModelCheckpoint;
/// let checkpoint = ModelCheckpoint::new("best.safetensors").monitor("val_accuracy").save_best_only(true);
/// ```
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: String,
    mode: Mode,
    save_best_only: bool,
    best: Option<f64>,
}

impl ModelCheckpoint {
    /// Saves to `path` after every epoch, monitoring `val_loss` if `save_best_only` is set.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ModelCheckpoint {
            path: path.into(),
            monitor: String::from("val_loss"),
            mode: Mode::Min,
            save_best_only: false,
            best: None,
        }
    }

    /// The quantity compared when `save_best_only` is set; the direction is inferred ("acc" in
    /// the name means higher is better).
    pub fn monitor(mut self, monitor: impl Into<String>) -> Self {
        self.monitor = monitor.into();
        self.mode = Mode::infer(&self.monitor);
        self
    }

    /// Saves only when the monitored quantity is the best seen so far.
    pub fn save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// Overrides the inferred direction.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

impl<F: Float> Callback<F> for ModelCheckpoint {
    fn name(&self) -> &'static str {
        "ModelCheckpoint"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.best = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, F>) -> Result<()> {
        if self.save_best_only {
            let value = monitored("ModelCheckpoint", &self.monitor, logs)?;
            let better = match (self.best, self.mode) {
                (_, _) if value.is_nan() => false,
                (None, _) => true,
                (Some(best), Mode::Min) => value < best,
                (Some(best), Mode::Max) => value > best,
            };
            if !better {
                return Ok(());
            }
            self.best = Some(value);
        }
        save_network(ctx.network, ctx.optimizer, ctx.epochs_completed, &self.path)
    }
}
