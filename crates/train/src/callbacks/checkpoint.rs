//! `ModelCheckpoint`: save the model to a file during training.

use std::path::PathBuf;

use neurite_tensor::Float;

use super::template::Template;
use super::{Context, MonitorMode, monitored};
use crate::persist::save_network;
use crate::{Callback, EpochLogs, Result, TrainError};

/// Saves the network and the optimizer's state after every epoch, or with `save_best_only`
/// only when `monitor` improves (Keras `ModelCheckpoint`). The path is a template in Python's
/// format syntax, as in Keras: `{epoch}` (from 1; `{epoch:02d}` pads it) and any logged value
/// (`{val_loss:.4f}`, `{accuracy:.3f}`) are filled in. Each save replaces its file atomically,
/// so an interrupted save never leaves a broken checkpoint.
///
/// ```
/// use neurite_train::ModelCheckpoint;
/// let best = ModelCheckpoint::new("best.safetensors").monitor("val_accuracy").save_best_only(true);
/// let every = ModelCheckpoint::new("ckpt/model.{epoch:02d}-{val_loss:.4f}.safetensors");
/// ```
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    path: String,
    monitor: String,
    mode: MonitorMode,
    save_best_only: bool,
    best: Option<f64>,
}

impl ModelCheckpoint {
    /// Saves to `path` (a template, see above) after every epoch, monitoring `val_loss` if
    /// `save_best_only` is set. The template is checked when training begins.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ModelCheckpoint {
            path: path.into().to_string_lossy().into_owned(),
            monitor: String::from("val_loss"),
            mode: MonitorMode::Min,
            save_best_only: false,
            best: None,
        }
    }

    /// The quantity compared when `save_best_only` is set; the direction is inferred ("acc" or
    /// "auc" in the name: higher is better).
    pub fn monitor(mut self, monitor: impl Into<String>) -> Self {
        self.monitor = monitor.into();
        self.mode = MonitorMode::infer(&self.monitor);
        self
    }

    neurite_tensor::builder_setters! {
        /// Saves only when the monitored quantity is the best seen so far.
        save_best_only: bool,
        /// Overrides the inferred direction.
        mode: MonitorMode,
    }

    fn template(&self) -> Result<Template> {
        Template::parse(&self.path).map_err(|detail| TrainError::Callback {
            callback: "ModelCheckpoint",
            detail,
        })
    }
}

impl<F: Float> Callback<F> for ModelCheckpoint {
    fn name(&self) -> &'static str {
        "ModelCheckpoint"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.template()?;
        self.best = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, F>) -> Result<()> {
        if self.save_best_only {
            let value = monitored("ModelCheckpoint", &self.monitor, logs)?;
            let better = match (self.best, self.mode) {
                (_, _) if value.is_nan() => false,
                (None, _) => true,
                (Some(best), MonitorMode::Min) => value < best,
                (Some(best), MonitorMode::Max) => value > best,
            };
            if !better {
                return Ok(());
            }
            self.best = Some(value);
        }
        let path = self
            .template()?
            .render(logs)
            .map_err(|detail| TrainError::Callback {
                callback: "ModelCheckpoint",
                detail,
            })?;
        save_network(
            ctx.network,
            ctx.optimizer,
            ctx.epochs_completed,
            path.as_ref(),
        )
    }
}
