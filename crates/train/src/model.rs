//! `Model`: a network compiled with a loss, an optimizer and metrics; `fit`, `evaluate`,
//! `predict`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ndarray::{ArrayViewD, Axis, Ix2, IxDyn, Slice};
use neurite_data::{BatchConfig, batches_of};
use neurite_layers::{Mode, Sequential};
use neurite_losses::{GradientWrt, Loss};
use neurite_metrics::Score;
use neurite_metrics::streaming::{StreamingMetric, Targets};
use neurite_optim::Optimizer;
use neurite_tensor::{Float, Tensor};

use crate::callbacks::Context;
use crate::config::{FitConfig, Validation};
use crate::parallel_predict::predict_in_parallel;
use crate::progress::Progress;
use crate::{EpochLogs, History, Result, TrainError};

/// Loss and metrics over a dataset, from [`Model::evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss over all samples.
    pub loss: f64,
    /// Metrics by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A [`Sequential`] network compiled with a loss, an optimizer and metrics (Keras `Model`).
///
/// ```
/// use ndarray::{Array2, ArrayD};
/// use neurite_layers::{Activation, Dense, Sequential};
/// use neurite_losses::MeanSquaredError;
/// use neurite_optim::Sgd;
/// use neurite_train::{FitConfig, Model};
///
/// // Learn y = 2x - 1 with one Dense unit.
/// let mut net = Sequential::<f64>::with_seed(0).add(Dense::new(1));
/// net.build(&[1])?;
/// let mut model = Model::compile(net, MeanSquaredError, Box::new(Sgd::with_learning_rate(0.1)?), vec![])?;
/// let x = ArrayD::from_shape_fn(vec![64, 1], |i| i[0] as f64 / 32.0 - 1.0);
/// let y = x.mapv(|v| 2.0 * v - 1.0);
/// let history = model.fit(&x, &y, FitConfig::new(200, 16).silent())?;
/// assert!(history.last().unwrap().loss < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Model<F: Float + Score> {
    network: Sequential<F>,
    loss: Box<dyn Loss<F>>,
    optimizer: Box<dyn Optimizer<F>>,
    metrics: Vec<Box<dyn StreamingMetric<F>>>,
    /// The loss gradient, reused between steps.
    loss_grad: Tensor<F>,
    /// Integer labels of the current batch for the metrics, reused between steps.
    labels: Vec<usize>,
    /// The number of the last epoch `fit` ran to its end (0 before any), saved with the model.
    epochs_completed: usize,
}

impl<F: Float + Score> Model<F> {
    /// Puts a built network together with its loss, optimizer and metrics.
    ///
    /// # Errors
    /// [`TrainError::Invalid`] when the network has not been built (call
    /// `Sequential::build(input_shape)` first) or two metrics share a name.
    pub fn compile(
        network: Sequential<F>,
        loss: impl Loss<F> + 'static,
        optimizer: Box<dyn Optimizer<F>>,
        metrics: Vec<Box<dyn StreamingMetric<F>>>,
    ) -> Result<Self> {
        Self::from_parts(network, Box::new(loss), optimizer, metrics)
    }

    /// [`Model::compile`] with the loss already boxed (a loss rebuilt from a model file).
    pub(crate) fn from_parts(
        network: Sequential<F>,
        loss: Box<dyn Loss<F>>,
        optimizer: Box<dyn Optimizer<F>>,
        metrics: Vec<Box<dyn StreamingMetric<F>>>,
    ) -> Result<Self> {
        if network.input_shape().is_none() {
            return Err(TrainError::invalid(
                "Model::compile",
                "the network is not built: call `network.build(&input_shape)` first (e.g. &[1, 28, 28] for MNIST)",
            ));
        }
        let mut names: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(TrainError::invalid(
                "Model::compile",
                format!("two metrics are named `{}`", w[0]),
            ));
        }
        Ok(Model {
            network,
            loss,
            optimizer,
            metrics,
            loss_grad: Tensor::zeros(IxDyn(&[0])),
            labels: Vec::new(),
            epochs_completed: 0,
        })
    }

    /// The network.
    pub fn network(&self) -> &Sequential<F> {
        &self.network
    }

    /// The network, mutably (to load weights, say).
    pub fn network_mut(&mut self) -> &mut Sequential<F> {
        &mut self.network
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer<F> {
        self.optimizer.as_ref()
    }

    /// The optimizer, mutably (to restore its state, say).
    pub fn optimizer_mut(&mut self) -> &mut dyn Optimizer<F> {
        self.optimizer.as_mut()
    }

    /// The loss.
    pub fn loss(&self) -> &dyn Loss<F> {
        self.loss.as_ref()
    }

    /// The number of the last epoch that ran all its batches: 0 for a new model, `k` after a
    /// `fit` that reached the end of epoch `k` (an epoch cut short by an interrupt or a callback
    /// does not count), or what the file said for a model from [`Model::load`]. A resumed run
    /// passes it to [`FitConfig::initial_epoch()`].
    pub fn epochs_completed(&self) -> usize {
        self.epochs_completed
    }

    /// Sets what [`Model::epochs_completed`] reports (and [`Model::save`] records).
    pub fn set_epochs_completed(&mut self, epochs: usize) {
        self.epochs_completed = epochs;
    }

    /// The metrics, in order (for saving their configs).
    pub(crate) fn metrics(&self) -> &[Box<dyn StreamingMetric<F>>] {
        &self.metrics
    }

    /// The metric names, in order.
    pub fn metric_names(&self) -> Vec<String> {
        self.metrics.iter().map(|m| m.name().to_string()).collect()
    }

    /// Gives back the network.
    pub fn into_network(self) -> Sequential<F> {
        self.network
    }

    /// Trains on `x` `[N, ..input]` and targets `y` (`[N]` integer labels for a sparse loss,
    /// `[N, classes]` one-hot rows, `[N, outputs]` values), epochs `config.initial_epoch + 1`
    /// to `config.epochs` (see [`FitConfig`]).
    ///
    /// Per batch: zero the gradients, forward in training mode, loss and its gradient (w.r.t.
    /// the logits when the loss fuses with the output activation), backward, optimizer step.
    /// The same seed gives bit-identical weights whatever the number of threads.
    ///
    /// # Errors
    /// Shapes that do not fit the network or the loss, bad targets, a non-finite loss
    /// ([`TrainError::NonFiniteLoss`], the weights are those before the failing step), or a
    /// callback's error.
    pub fn fit(
        &mut self,
        x: &Tensor<F>,
        y: &Tensor<F>,
        mut config: FitConfig<F>,
    ) -> Result<History> {
        const OP: &str = "Model::fit";
        check_pair(OP, x, y)?;
        if config.batch_size == 0 {
            return Err(TrainError::invalid(OP, "batch_size must be at least 1"));
        }
        // Training reads x and y where they lie (batches are gathered from views); only a
        // validation split is copied out.
        let (train, validation) = match std::mem::take(&mut config.validation) {
            Validation::None => ((x.view(), y.view()), None),
            Validation::Data(pair) => {
                let (vx, vy) = *pair;
                check_pair("Model::fit (validation data)", &vx, &vy)?;
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
                fn part<F: Float>(a: &Tensor<F>, r: std::ops::Range<usize>) -> ArrayViewD<'_, F> {
                    a.slice_axis(Axis(0), Slice::from(r))
                }
                (
                    (part(x, 0..cut), part(y, 0..cut)),
                    Some((part(x, cut..n).to_owned(), part(y, cut..n).to_owned())),
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
                let eval = self.evaluate(vx, vy, config.batch_size)?;
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

    fn metric_results(&self) -> BTreeMap<String, f64> {
        self.metrics
            .iter()
            .map(|m| (m.name().to_string(), m.result()))
            .collect()
    }

    /// Loss and metrics on `(x, y)` in inference mode, in batches of `batch_size`.
    ///
    /// # Errors
    /// Shapes that do not fit, bad targets, or `batch_size == 0`.
    pub fn evaluate(
        &mut self,
        x: &Tensor<F>,
        y: &Tensor<F>,
        batch_size: usize,
    ) -> Result<Evaluation> {
        check_pair("Model::evaluate", x, y)?;
        if batch_size == 0 {
            return Err(TrainError::invalid(
                "Model::evaluate",
                "batch_size must be at least 1",
            ));
        }
        self.metrics.iter_mut().for_each(|m| m.reset());
        let n = x.len_of(Axis(0));
        let mut loss_sum = 0.0;
        for start in (0..n).step_by(batch_size) {
            let rows = Slice::from(start..(start + batch_size).min(n));
            let (xb, yb) = (x.slice_axis(Axis(0), rows), y.slice_axis(Axis(0), rows));
            let batch = xb.len_of(Axis(0));
            let output = self.network.forward(xb, Mode::Infer)?;
            let loss = self.loss.loss(output.view(), yb.view())?.as_f64();
            loss_sum += loss * batch as f64;
            update_metrics(&mut self.metrics, &mut self.labels, output, yb)?;
        }
        Ok(Evaluation {
            loss: loss_sum / n as f64,
            metrics: self.metric_results(),
        })
    }

    /// The network's outputs for `x` in inference mode, in batches of `batch_size`:
    /// `[N, ..output]` (probabilities for a softmax classifier).
    ///
    /// # Errors
    /// Shapes that do not fit, or `batch_size == 0`.
    pub fn predict(&mut self, x: &Tensor<F>, batch_size: usize) -> Result<Tensor<F>> {
        predict(&mut self.network, x, batch_size)
    }
}

/// [`Model::predict`] for a bare network.
///
/// # Errors
/// Shapes that do not fit, or `batch_size == 0`.
pub fn predict<F: Float>(
    network: &mut Sequential<F>,
    x: &Tensor<F>,
    batch_size: usize,
) -> Result<Tensor<F>> {
    if batch_size == 0 {
        return Err(TrainError::invalid(
            "predict",
            "batch_size must be at least 1",
        ));
    }
    if x.ndim() == 0 {
        return Err(TrainError::invalid("predict", "x needs a batch axis"));
    }
    let n = x.len_of(Axis(0));
    let Some(out_shape) = network.output_shape().map(<[usize]>::to_vec) else {
        return Err(TrainError::invalid("predict", "the network is not built"));
    };
    let mut shape = vec![n];
    shape.extend_from_slice(&out_shape);
    let mut result = Tensor::zeros(IxDyn(&shape));
    // Inference treats every sample on its own, so running a large batch as chunks that keep
    // each layer's activations in cache gives the same values, faster; on several threads,
    // each with its own copy of the network and its own chunks, when that applies.
    let serial_chunk = inference_chunk(network);
    let largest = largest_output(network);
    if predict_in_parallel(
        network,
        x.view(),
        largest,
        batch_size,
        serial_chunk,
        &mut result,
    )? {
        return Ok(result);
    }
    let chunk = batch_size.min(serial_chunk);
    for start in (0..n).step_by(chunk) {
        let rows = Slice::from(start..(start + chunk).min(n));
        let output = network.forward(x.slice_axis(Axis(0), rows), Mode::Infer)?;
        result.slice_axis_mut(Axis(0), rows).assign(&output);
    }
    Ok(result)
}

/// The largest layer output of one forward chunk in [`predict`], in values: 1.5 M f32 values
/// (6 MB) stay within the caches of current CPUs, where a batch of 1000 MNIST images through
/// the reference CNN's first convolution (87 MB) would stream through memory.
const INFERENCE_CHUNK_VALUES: usize = 3 << 19;

/// Samples per forward chunk of [`predict`]: as many as keep the largest layer output within
/// 1.5 M values, 6 MB of f32 (72 for the reference CNN, about 2000 for the MLP), at least 16.
pub fn inference_chunk<F: Float>(network: &Sequential<F>) -> usize {
    (INFERENCE_CHUNK_VALUES / largest_output(network)).max(16)
}

/// The largest per-sample layer output (or input) of the network, in values, at least 1.
fn largest_output<F: Float>(network: &Sequential<F>) -> usize {
    let input = network.input_shape().unwrap_or(&[]);
    std::iter::once(input)
        .chain(
            network
                .output_shapes(input)
                .iter()
                .flatten()
                .map(Vec::as_slice),
        )
        .map(|shape| shape.iter().product::<usize>())
        .max()
        .unwrap_or(1)
        .max(1)
}

fn check_pair<F: Float>(op: &'static str, x: &Tensor<F>, y: &Tensor<F>) -> Result<()> {
    if x.ndim() == 0 || y.ndim() == 0 {
        return Err(TrainError::invalid(
            op,
            "x and y need a sample axis in front",
        ));
    }
    let (nx, ny) = (x.len_of(Axis(0)), y.len_of(Axis(0)));
    if nx != ny {
        return Err(TrainError::invalid(
            op,
            format!("x has {nx} samples but y has {ny}"),
        ));
    }
    if nx == 0 {
        return Err(TrainError::invalid(op, "no samples"));
    }
    Ok(())
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

/// Feeds a batch to every metric. Targets with one column against a wider prediction are class
/// labels (sparse losses); anything else is compared as dense rows.
fn update_metrics<F: Float + Score>(
    metrics: &mut [Box<dyn StreamingMetric<F>>],
    labels: &mut Vec<usize>,
    output: ArrayViewD<'_, F>,
    y: ArrayViewD<'_, F>,
) -> Result<()> {
    if metrics.is_empty() {
        return Ok(());
    }
    let predictions = output.into_dimensionality::<Ix2>().map_err(|_| {
        TrainError::invalid("metrics", "metrics need predictions of shape [batch, outputs]; compile without metrics for other outputs")
    })?;
    let rows = y.len_of(Axis(0));
    let columns = if y.ndim() == 1 {
        1
    } else {
        y.len() / rows.max(1)
    };
    if columns == 1 && predictions.ncols() > 1 {
        labels.clear();
        labels.extend(y.iter().map(|v| v.as_f64() as usize));
        for m in metrics.iter_mut() {
            m.update(predictions, Targets::Labels(labels))?;
        }
    } else {
        let dense = y.into_shape_with_order((rows, columns)).map_err(|_| {
            TrainError::invalid(
                "metrics",
                "targets must be contiguous [batch, outputs] rows",
            )
        })?;
        for m in metrics.iter_mut() {
            m.update(predictions, Targets::Dense(dense))?;
        }
    }
    Ok(())
}
