//! `EarlyStopping`: stop when a monitored quantity stops improving.

use neurite_tensor::{Float, Tensor};

use super::{Context, MonitorMode, monitored};
use crate::{Callback, EpochLogs, History, Result};

/// Stops training when `monitor` has not improved by more than `min_delta` for `patience`
/// epochs (Keras `EarlyStopping`), with Keras' counting: every epoch that does not improve adds
/// one to `wait`, and training stops at the end of the epoch where `wait >= patience`. With
/// `patience(3)` and a loss that only grows, 4 epochs run (the first sets the best value).
///
/// The direction is inferred from the name ("acc" or "auc" in it: higher is better), unless
/// set with [`EarlyStopping::mode`]. With [`EarlyStopping::start_from_epoch`] the first
/// epochs are not looked at (a warm-up); with [`EarlyStopping::baseline`] `wait` is reset only
/// by values that also beat the baseline. With `restore_best_weights`, the weights of the best
/// epoch are put back when training ends (whether it stopped early or ran all its epochs).
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
    mode: MonitorMode,
    baseline: Option<f64>,
    start_from_epoch: usize,
    restore_best_weights: bool,
    best: Option<f64>,
    wait: usize,
    best_epoch: usize,
    best_weights: Option<Vec<(String, Tensor<F>)>>,
}

impl<F: Float> EarlyStopping<F> {
    /// Monitors `monitor` (`val_loss`, `val_accuracy`, ...), patience 0, like Keras; the mode is
    /// `Max` for names containing "acc" or "auc", else `Min`.
    pub fn new(monitor: impl Into<String>) -> Self {
        let monitor = monitor.into();
        let mode = MonitorMode::infer(&monitor);
        EarlyStopping {
            monitor,
            patience: 0,
            min_delta: 0.0,
            mode,
            baseline: None,
            start_from_epoch: 0,
            restore_best_weights: false,
            best: None,
            wait: 0,
            best_epoch: 0,
            best_weights: None,
        }
    }

    neurite_tensor::builder_setters! {
        /// Epochs without improvement before stopping (Keras `patience`).
        patience: usize,
    }

    /// The least change that counts as an improvement (its sign is ignored).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    neurite_tensor::builder_setters! {
        /// Overrides the inferred direction.
        mode: MonitorMode,
    }

    /// A value the monitored quantity must beat for `wait` to restart (Keras `baseline`).
    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    neurite_tensor::builder_setters! {
        /// Ignores the first `epochs` epochs, a warm-up in which no improvement is expected
        /// (Keras `start_from_epoch`).
        start_from_epoch: usize,
        /// Puts back the best epoch's weights at the end.
        restore_best_weights: bool,
    }

    /// The epoch (from 1) with the best value so far, 0 before any.
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }

    /// Keras' `_is_improvement`: anything beats no reference; NaN never improves on a number.
    fn beats(&self, value: f64, reference: Option<f64>) -> bool {
        let Some(reference) = reference else {
            return true;
        };
        match self.mode {
            MonitorMode::Min => value + self.min_delta < reference,
            MonitorMode::Max => value - self.min_delta > reference,
        }
    }

    fn snapshot(ctx: &Context<'_, F>) -> Vec<(String, Tensor<F>)> {
        ctx.network
            .params()
            .into_iter()
            .map(|(n, p)| (n, p.value().clone()))
            .collect()
    }
}

impl<F: Float> Callback<F> for EarlyStopping<F> {
    fn name(&self) -> &'static str {
        "EarlyStopping"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.best = None;
        self.wait = 0;
        self.best_epoch = 0;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, F>) -> Result<()> {
        let value = monitored("EarlyStopping", &self.monitor, logs)?;
        // Keras numbers epochs from 0: `start_from_epoch(k)` skips the first k.
        if logs.epoch <= self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(Self::snapshot(ctx));
            self.best_epoch = logs.epoch;
        }
        self.wait += 1;
        if self.beats(value, self.best) {
            self.best = Some(value);
            self.best_epoch = logs.epoch;
            if self.restore_best_weights {
                self.best_weights = Some(Self::snapshot(ctx));
            }
            if self.baseline.is_none() || self.beats(value, self.baseline) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && logs.epoch > 1 {
            ctx.stop_training(format!(
                "EarlyStopping: {} did not improve for {} epochs (best {:.6} at epoch {})",
                self.monitor,
                self.wait,
                self.best.unwrap_or(f64::NAN),
                self.best_epoch
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

#[cfg(test)]
mod tests {
    use super::*;
    use neurite_layers::{Dense, Sequential};
    use neurite_optim::Sgd;

    /// Feeds `values` as the epochs' `loss` (or `accuracy`) and returns the epochs run.
    fn epochs_run(mut stop: EarlyStopping<f64>, monitor: &str, values: &[f64]) -> usize {
        let mut network = Sequential::<f64>::new()
            .with_input_shape([1])
            .add(Dense::new(1));
        network.build_declared().unwrap();
        let mut optimizer = Sgd::<f64>::default();
        let mut reason = None;
        let mut ctx = Context {
            network: &mut network,
            optimizer: &mut optimizer,
            epochs_completed: 0,
            stop: &mut reason,
        };
        stop.on_train_begin(&mut ctx).unwrap();
        for (i, &v) in values.iter().enumerate() {
            let mut logs = EpochLogs {
                epoch: i + 1,
                ..EpochLogs::default()
            };
            if monitor == "loss" {
                logs.loss = v;
            } else {
                logs.metrics.insert(monitor.to_string(), v);
            }
            stop.on_epoch_end(&logs, &mut ctx).unwrap();
            if ctx.stop_requested() {
                return i + 1;
            }
        }
        values.len()
    }

    #[test]
    fn keras_doc_example_patience_3_on_a_growing_loss_runs_4_epochs() {
        // keras.io EarlyStopping: "monitor='loss', patience=3 ... Only 4 epochs are run."
        let growing = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(
            epochs_run(EarlyStopping::new("loss").patience(3), "loss", &growing),
            4
        );
        // patience 0: the first epoch to not improve stops.
        assert_eq!(epochs_run(EarlyStopping::new("loss"), "loss", &growing), 2);
    }

    #[test]
    fn min_delta_direction_and_start_from_epoch() {
        // Improvements smaller than min_delta do not reset wait.
        let creeping = [1.0, 0.99, 0.98, 0.97, 0.96];
        let stop = EarlyStopping::new("loss").patience(2).min_delta(0.05);
        assert_eq!(epochs_run(stop, "loss", &creeping), 3);
        // "accuracy" is maximised: a rising accuracy never stops.
        let rising = [0.1, 0.2, 0.3, 0.4, 0.5];
        assert_eq!(
            epochs_run(EarlyStopping::new("accuracy"), "accuracy", &rising),
            5
        );
        // The first two epochs are a warm-up: epoch 3 sets the best, 4 and 5 do not improve.
        let stop = EarlyStopping::new("loss").patience(2).start_from_epoch(2);
        assert_eq!(epochs_run(stop, "loss", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 5);
    }

    #[test]
    fn baseline_must_be_beaten_to_reset_wait() {
        // Keras: "If no epoch improves on baseline, training will run for patience epochs":
        // the first epoch sets the best value without resetting wait.
        let flat = [1.0; 6];
        let stop = EarlyStopping::new("loss").patience(3).baseline(0.5);
        assert_eq!(epochs_run(stop, "loss", &flat), 3);
        assert_eq!(
            epochs_run(EarlyStopping::new("loss").patience(3), "loss", &flat),
            4
        );
    }
}
