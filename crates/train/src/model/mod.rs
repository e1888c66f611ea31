//! `Model`: a network compiled with a loss, an optimizer and metrics; `fit`, `evaluate`,
//! `predict`.

mod fit;
mod infer;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use ndarray::{ArrayViewD, Axis, Ix2, IxDyn};
use neurite_layers::Sequential;
use neurite_losses::Loss;
use neurite_metrics::Score;
use neurite_metrics::streaming::{StreamingMetric, Targets};
use neurite_optim::Optimizer;
use neurite_tensor::{Float, Tensor};

#[cfg(doc)]
use crate::FitConfig;
use crate::{ModelBuilder, Result, TrainError};

pub use infer::{inference_chunk, predict};

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

    fn metric_results(&self) -> BTreeMap<String, f64> {
        self.metrics
            .iter()
            .map(|m| (m.name().to_string(), m.result()))
            .collect()
    }
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
