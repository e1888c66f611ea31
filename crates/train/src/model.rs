//! `Model`: a network compiled with a loss, an optimizer and metrics; `fit`, `evaluate`,
//! `predict`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use ndarray::{Array2, ArrayViewD, Axis, CowArray, Ix2, IxDyn, Slice};
use neurite_data::{BatchConfig, batches_of};
use neurite_layers::{Mode, Sequential};
use neurite_losses::{GradientWrt, Loss};
use neurite_metrics::Score;
use neurite_metrics::streaming::{StreamingMetric, Targets};
use neurite_optim::Optimizer;
use neurite_tensor::{Float, Tensor};

use crate::callbacks::Context;
use crate::config::{DEFAULT_BATCH_SIZE, FitConfig, Validation};
use crate::parallel_predict::{inference_copy, predict_in_parallel};
use crate::progress::Progress;
use crate::{AsSamples, AsTargets, ModelBuilder};
use crate::{EpochLogs, History, Result, TrainError};

/// Loss and metrics over a dataset, from [`Model::evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss over all samples.
    pub loss: f64,
    /// Metrics by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A [`Sequential`] network compiled with a loss, an optimizer and metrics (Keras `Model`):
/// build one with [`Model::new`], then `fit`, `evaluate` and `predict`.
///
/// ```
/// use ndarray::Array2;
/// use neurite_layers::{Dense, Sequential};
/// use neurite_losses::MeanSquaredError;
/// use neurite_optim::Sgd;
/// use neurite_train::{FitConfig, Model};
///
/// // Learn y = 2x - 1 with one Dense unit.
/// let net = Sequential::<f64>::with_seed(0).with_input_shape([1]).add(Dense::new(1));
/// let mut model = Model::new(net).loss(MeanSquaredError).optimizer(Sgd::default().learning_rate(0.1)).compile()?;
/// let x = Array2::from_shape_fn((64, 1), |(i, _)| i as f64 / 32.0 - 1.0);
/// let y = x.mapv(|v| 2.0 * v - 1.0);
/// let history = model.fit(&x, &y, FitConfig::default().epochs(200).batch_size(16).silent())?;
/// assert!(history.last().unwrap().loss < 1e-6);
/// let prediction = model.predict(&ndarray::array![[0.5]], None)?;
/// assert!((prediction[[0, 0]] - 0.0).abs() < 1e-3);
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
    /// A copy of the network for `predict(&self)`, made at the first prediction and dropped by
    /// every method that may change the weights.
    inference: Mutex<Option<Sequential<F>>>,
}

impl<F: Float + Score> fmt::Debug for Model<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("network", &self.network)
            .field("loss", &self.loss.name())
            .field("optimizer", &self.optimizer)
            .field("metrics", &self.metric_names())
            .field("epochs_completed", &self.epochs_completed)
            .finish_non_exhaustive()
    }
}

impl<F: Float + Score> Model<F> {
    /// Starts compiling `network` (Keras `model.compile(...)`): give the loss, the optimizer
    /// and any metrics, then call [`ModelBuilder::compile`].
    // The brief's `Model::new(net)...compile()` reads as Keras' `Model(...)` then `compile`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(network: Sequential<F>) -> ModelBuilder<F> {
        ModelBuilder::new(network)
    }

    /// The positional form of [`Model::new`]`(..).loss(..).optimizer(..).metric(..).compile()`,
    /// for an optimizer and metrics chosen at run time (already boxed).
    ///
    /// # Errors
    /// As [`ModelBuilder::compile`].
    #[doc(hidden)]
    pub fn compile(
        network: Sequential<F>,
        loss: impl Loss<F> + 'static,
        optimizer: Box<dyn Optimizer<F>>,
        metrics: Vec<Box<dyn StreamingMetric<F>>>,
    ) -> Result<Self> {
        let mut builder = ModelBuilder::new(network)
            .loss(loss)
            .boxed_optimizer(optimizer);
        for metric in metrics {
            builder = builder.boxed_metric(metric);
        }
        builder.compile()
    }

    /// Assembles a model from parts [`ModelBuilder::compile`] has checked.
    pub(crate) fn from_parts(
        network: Sequential<F>,
        loss: Box<dyn Loss<F>>,
        optimizer: Box<dyn Optimizer<F>>,
        metrics: Vec<Box<dyn StreamingMetric<F>>>,
    ) -> Self {
        Model {
            network,
            loss,
            optimizer,
            metrics,
            loss_grad: Tensor::zeros(IxDyn(&[0])),
            labels: Vec::new(),
            epochs_completed: 0,
            inference: Mutex::new(None),
        }
    }

    /// The network.
    pub fn network(&self) -> &Sequential<F> {
        &self.network
    }

    /// The network, mutably (to load weights, say).
    pub fn network_mut(&mut self) -> &mut Sequential<F> {
        self.weights_may_change();
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

    /// Keras' `model.summary()`: the layers, their output shapes and parameter counts.
    ///
    /// ```
    /// use neurite_layers::models;
    /// use neurite_losses::SparseCategoricalCrossentropy;
    /// use neurite_optim::Adam;
    /// use neurite_train::Model;
    /// let model = Model::new(models::mlp::<f32>(0)).loss(SparseCategoricalCrossentropy::default()).optimizer(Adam::default()).compile()?;
    /// assert!(model.summary().contains("Total params: 101,770"), "{}", model.summary());
    /// # Ok::<(), neurite_train::TrainError>(())
    /// ```
    pub fn summary(&self) -> String {
        match self.network.summary() {
            Ok(summary) => summary.to_string(),
            Err(e) => format!("(no summary: {e})"),
        }
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

    /// Drops the copy `predict` runs on.
    fn weights_may_change(&mut self) {
        *self
            .inference
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

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

    fn metric_results(&self) -> BTreeMap<String, f64> {
        self.metrics
            .iter()
            .map(|m| (m.name().to_string(), m.result()))
            .collect()
    }

    /// Loss and metrics on `(x, y)` in inference mode (Keras `evaluate`), in batches of
    /// `batch_size` (`None`: 32, as in Keras). `x` and `y` take the forms `fit` takes.
    ///
    /// # Errors
    /// Shapes that do not fit, bad targets, or a batch size of 0.
    pub fn evaluate<X, Y>(
        &mut self,
        x: &X,
        y: &Y,
        batch_size: impl Into<Option<usize>>,
    ) -> Result<Evaluation>
    where
        X: AsSamples<F> + ?Sized,
        Y: AsTargets<F> + ?Sized,
    {
        let batch_size = batch_size.into().unwrap_or(DEFAULT_BATCH_SIZE);
        self.evaluate_views(x.samples(), y.targets().view(), batch_size)
    }

    fn evaluate_views(
        &mut self,
        x: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        batch_size: usize,
    ) -> Result<Evaluation> {
        check_pair("Model::evaluate", &x, &y)?;
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

    /// The network's outputs for `x` in inference mode (Keras `predict`), as `[N, outputs]`
    /// rows (probabilities for a softmax classifier). `batch_size` only bounds how many
    /// samples run together (`None`: chunks sized for the CPU caches); the values do not
    /// depend on it. Takes `&self`: the model runs a copy of its network, made at the first
    /// prediction after a change of weights.
    ///
    /// # Errors
    /// Shapes that do not fit, a batch size of 0, or a network whose output has more than one
    /// axis per sample (use [`Model::predict_tensor`]).
    pub fn predict<X>(&self, x: &X, batch_size: impl Into<Option<usize>>) -> Result<Array2<F>>
    where
        X: AsSamples<F> + ?Sized,
    {
        let out = self.network.output_shape().unwrap_or(&[]);
        if out.len() != 1 {
            return Err(TrainError::invalid(
                "Model::predict",
                format!(
                    "the network's output per sample has shape {out:?}, not [outputs]: use predict_tensor"
                ),
            ));
        }
        self.predict_tensor(x, batch_size)?
            .into_dimensionality::<Ix2>()
            .map_err(|e| TrainError::invalid("Model::predict", e.to_string()))
    }

    /// [`Model::predict`] for outputs of any rank: `[N, ..output]`.
    ///
    /// # Errors
    /// Shapes that do not fit, or a batch size of 0.
    pub fn predict_tensor<X>(
        &self,
        x: &X,
        batch_size: impl Into<Option<usize>>,
    ) -> Result<Tensor<F>>
    where
        X: AsSamples<F> + ?Sized,
    {
        let batch_size = batch_size.into().unwrap_or(usize::MAX);
        let mut copy = self
            .inference
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if copy.is_none() {
            *copy = Some(inference_copy(&self.network)?);
        }
        let Some(network) = copy.as_mut() else {
            return Err(TrainError::invalid("Model::predict", "no network copy"));
        };
        predict(network, x, batch_size)
    }
}

/// [`Model::predict_tensor`] for a bare network, in chunks of at most `batch_size` samples
/// (`usize::MAX`: chunks sized for the caches).
///
/// # Errors
/// Shapes that do not fit, or `batch_size == 0`.
pub fn predict<F: Float, X: AsSamples<F> + ?Sized>(
    network: &mut Sequential<F>,
    x: &X,
    batch_size: usize,
) -> Result<Tensor<F>> {
    let x = x.samples();
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

fn check_pair<F: Float>(
    op: &'static str,
    x: &ArrayViewD<'_, F>,
    y: &ArrayViewD<'_, F>,
) -> Result<()> {
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
