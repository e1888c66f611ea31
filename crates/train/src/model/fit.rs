//! `Model::fit`: the training loop, its epochs, batches and callbacks.

use std::sync::atomic::Ordering;
use std::time::Instant;

use ndarray::{ArrayViewD, Axis, CowArray, Slice};
use neurite_data::{BatchConfig, batches_of};
use neurite_layers::Mode;
use neurite_losses::GradientWrt;
use neurite_metrics::Score;
use neurite_metrics::streaming::StreamingMetric;
use neurite_tensor::Float;

use super::{Model, check_pair, update_metrics};
use crate::callbacks::Context;
use crate::config::{FitConfig, Validation};
use crate::progress::Progress;
use crate::{AsSamples, AsTargets, EpochLogs, History, Result, TrainError};

impl<F: Float + Score> Model<F> {
    /// Trains on samples `x` `[N, ..input]` and targets `y` (`[N]` class labels, floats or
    /// integers such as `u8`, for a sparse loss; `[N, classes]` one-hot rows; `[N, outputs]`
    /// values), epochs `config.initial_epoch + 1` to `config.epochs` (see [`FitConfig`]).
    /// `x` and `y` may be owned arrays or views (a slice of a larger array): batches are
    /// gathered from them where they lie, the data set is not copied.
    ///
    /// Per batch: zero the gradients, forward in training mode, loss and its gradient (w.r.t.
    /// the logits when the loss fuses with the output activation), backward, optimizer step.
    /// The same seed gives bit-identical weights whatever the number of threads.
    ///
    /// # Errors
    /// Shapes that do not fit the network or the loss, bad targets, a non-finite loss
    /// ([`TrainError::NonFiniteLoss`], the weights are those before the failing step), or a
    /// callback's error.
    pub fn fit<X, Y>(&mut self, x: &X, y: &Y, mut config: FitConfig<'_, F>) -> Result<History>
    where
        X: AsSamples<F> + ?Sized,
        Y: AsTargets<F> + ?Sized,
    {
        const OP: &str = "Model::fit";
        self.weights_may_change();
        let (x, y) = (x.samples(), y.targets());
        check_pair(OP, &x, &y.view())?;
        if config.batch_size == 0 {
            return Err(TrainError::invalid(OP, "batch_size must be at least 1"));
        }
        // Training reads x and y where they lie (batches are gathered from views); nothing is
        // copied, a validation split included.
        let (train, validation) = match std::mem::take(&mut config.validation) {
            Validation::None => ((x.view(), y.view()), None),
            Validation::Data(vx, vy) => {
                check_pair("Model::fit (validation data)", &vx, &vy.view())?;
                ((x.view(), y.view()), Some((vx, vy)))
            }
            Validation::Split(fraction) => {
                let n = x.len_of(Axis(0));
                if !(fraction > 0.0 && fraction < 1.0) {
                    return Err(TrainError::invalid(
                        OP,
                        format!("validation_split must be in (0, 1), got {fraction}"),
                    ));
                }
                // Keras keeps the first int(n * (1 - fraction)) samples for training.
                let cut = (n as f64 * (1.0 - fraction)) as usize;
                if cut == 0 || cut == n {
                    return Err(TrainError::invalid(
                        OP,
                        format!(
                            "validation_split {fraction} of {n} samples leaves an empty training or validation set"
                        ),
                    ));
                }
                let (head, tail) = (Slice::from(0..cut), Slice::from(cut..n));
                (
                    (x.slice_axis(Axis(0), head), y.slice_axis(Axis(0), head)),
                    Some((
                        x.slice_axis(Axis(0), tail),
                        CowArray::from(y.slice_axis(Axis(0), tail)),
                    )),
                )
            }
        };
        let batching = BatchConfig::new(config.batch_size)
            .seed(config.seed)
            .shuffle(config.shuffle);
        let steps = batching.num_batches(train.0.len_of(Axis(0)));
        let mut callbacks = std::mem::take(&mut config.callbacks);
        let mut history = History::default();
        let mut stop: Option<String> = None;
        let mut progress = Progress::new(config.verbosity, config.epochs);

        macro_rules! each_callback {
            (|$cb:ident, $ctx:ident| $body:expr) => {
                for $cb in callbacks.iter_mut() {
                    let mut $ctx = Context {
                        network: &mut self.network,
                        optimizer: self.optimizer.as_mut(),
                        epochs_completed: self.epochs_completed,
                        stop: &mut stop,
                    };
                    $body?;
                }
            };
        }

        each_callback!(|cb, ctx| cb.on_train_begin(&mut ctx));
        // Epoch numbers are absolute, so a resumed run shuffles, schedules and logs each epoch
        // as the uninterrupted run did.
        for epoch in config.initial_epoch + 1..=config.epochs {
            each_callback!(|cb, ctx| cb.on_epoch_begin(epoch, &mut ctx));
            self.metrics.iter_mut().for_each(|m| m.reset());
            let (mut loss_sum, mut seen) = (0.0f64, 0usize);
            progress.epoch_begin(epoch, steps);
            let start = Instant::now();
            let (mut interrupted, mut ran) = (false, 0);
            let batches = batches_of(train.0.view(), train.1.view(), batching, epoch as u64 - 1)?;
            for (i, (xb, yb)) in batches.enumerate() {
                let step = i + 1;
                ran = step;
                let batch_loss = match self.train_step(xb.view(), yb.view(), epoch, step) {
                    Ok(loss) => loss,
                    Err(e) => {
                        progress.abandon();
                        return Err(e);
                    }
                };
                let n = xb.len_of(Axis(0));
                loss_sum += batch_loss * n as f64;
                seen += n;
                each_callback!(|cb, ctx| cb.on_batch_end(step, batch_loss, &mut ctx));
                let metrics = &self.metrics;
                progress.batch_end(step, || running(loss_sum / seen as f64, metrics));
                if config
                    .interrupt
                    .as_ref()
                    .is_some_and(|f| f.load(Ordering::Relaxed))
                {
                    interrupted = true;
                    break;
                }
                if stop.is_some() {
                    break;
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            let mut logs = EpochLogs {
                epoch,
                loss: loss_sum / seen.max(1) as f64,
                metrics: self.metric_results(),
                seconds,
                ..EpochLogs::default()
            };
            if let Some((vx, vy)) = &validation {
                let eval = self.evaluate_views(vx.view(), vy.view(), config.batch_size)?;
                logs.val_loss = Some(eval.loss);
                logs.val_metrics = eval.metrics;
            }
            logs.learning_rate = self.optimizer.learning_rate();
            if ran == steps {
                // Before the callbacks, so that a checkpoint saved now records this epoch.
                self.epochs_completed = epoch;
            }
            progress.epoch_end(&logs, steps);
            each_callback!(|cb, ctx| cb.on_epoch_end(&logs, &mut ctx));
            history.epochs.push(logs);
            if interrupted {
                stop.get_or_insert_with(|| format!("interrupted during epoch {epoch}"));
            }
            if stop.is_some() {
                break;
            }
        }
        history.stopped_early = stop.clone();
        each_callback!(|cb, ctx| cb.on_train_end(&history, &mut ctx));
        Ok(history)
    }

    /// One gradient step on a batch; returns the batch's mean loss.
    fn train_step(
        &mut self,
        x: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        epoch: usize,
        step: usize,
    ) -> Result<f64> {
        self.network.zero_grad();
        let activation = self.network.output_activation();
        let output = self.network.forward(x, Mode::Train)?;
        let gradient = self.loss.loss_and_gradient(
            output.view(),
            y.view(),
            activation,
            &mut self.loss_grad,
        )?;
        let loss = gradient.loss.as_f64();
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss { epoch, step, loss });
        }
        update_metrics(&mut self.metrics, &mut self.labels, output, y)?;
        match gradient.wrt {
            GradientWrt::Logits => self.network.backward_from_logits(self.loss_grad.view())?,
            GradientWrt::Output => self.network.backward(self.loss_grad.view())?,
        }
        let mut params = self.network.param_refs_mut();
        self.optimizer.step(&mut params)?;
        Ok(loss)
    }
}

/// Running loss and metric values for the progress bar.
fn running<F: Float + Score>(
    loss: f64,
    metrics: &[Box<dyn StreamingMetric<F>>],
) -> Vec<(String, f64)> {
    let mut pairs = vec![(String::from("loss"), loss)];
    pairs.extend(metrics.iter().map(|m| (m.name().to_string(), m.result())));
    pairs
}
