//! `EarlyStopping`: stop when a monitored quantity stops improving.

use neurite_tensor::{Float, Tensor};

use super::{Context, Mode, monitored};
use crate::{Callback, EpochLogs, History, Result};

/// Stops training when `monitor` has not improved by more than `min_delta` for `patience`
/// epochs (Keras `EarlyStopping`).
///
/// With `restore_best_weights`, the weights of the best epoch are put back when training ends
/// (whether it stopped early or ran all its epochs), so the model returned is the best one seen.
///
/// ```
/// use neurite_train::EarlyStopping;
/// let stop = EarlyStopping::<f32>::new("val_loss").patience(3).min_delta(1e-4).restore_best_weights(true);
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping<F: Float> {
    monitor: String,
    patience: usize,
    min_delta: f64,
    mode: Mode,
    restore_best_weights: bool,
    best: f64,
    wait: usize,
    best_weights: Option<Vec<(String, Tensor<F>)>>,
}

impl<F: Float> EarlyStopping<F> {
    /// Monitors `monitor` (`val_loss`, `val_accuracy`, ...), patience 0, like Keras; the mode is
    /// `Max` for names containing "acc", else `Min`.
    pub fn new(monitor: impl Into<String>) -> Self {
        let monitor = monitor.into();
        let mode = Mode::infer(&monitor);
        EarlyStopping {
            monitor,
            patience: 0,
            min_delta: 0.0,
            mode,
            restore_best_weights: false,
            best: f64::NAN,
            wait: 0,
            best_weights: None,
        }
    }

    /// Epochs without improvement before stopping.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The least change that counts as an improvement (its sign is ignored).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// Overrides the inferred direction.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Puts back the best epoch's weights at the end.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    fn improved(&self, value: f64) -> bool {
        if self.best.is_nan() {
            return !value.is_nan();
        }
        match self.mode {
            Mode::Min => value < self.best - self.min_delta,
            Mode::Max => value > self.best + self.min_delta,
        }
    }
}

impl<F: Float> Callback<F> for EarlyStopping<F> {
    fn name(&self) -> &'static str {
        "EarlyStopping"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.best = f64::NAN;
        self.wait = 0;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, F>) -> Result<()> {
        let value = monitored("EarlyStopping", &self.monitor, logs)?;
        if self.improved(value) {
            self.best = value;
            self.wait = 0;
            if self.restore_best_weights {
                let snapshot = ctx
                    .network
                    .params()
                    .into_iter()
                    .map(|(n, p)| (n, p.value().clone()))
                    .collect();
                self.best_weights = Some(snapshot);
            }
            return Ok(());
        }
        self.wait += 1;
        if self.wait > self.patience {
            ctx.stop_training(format!(
                "EarlyStopping: {} did not improve for {} epochs (best {:.6})",
                self.monitor, self.wait, self.best
            ));
        }
        Ok(())
    }

    fn on_train_end(&mut self, _history: &History, ctx: &mut Context<'_, F>) -> Result<()> {
        if let Some(weights) = self.best_weights.take() {
            for (name, value) in weights {
                ctx.network.set_param(&name, value)?;
            }
        }
        Ok(())
    }
}
