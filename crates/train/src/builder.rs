//! `ModelBuilder`: Keras' `model.compile(loss=..., optimizer=..., metrics=[...])` as a builder
//! taking plain values.

use std::fmt;

use neurite_layers::Sequential;
use neurite_losses::Loss;
use neurite_metrics::Score;
use neurite_metrics::streaming::StreamingMetric;
use neurite_optim::Optimizer;
use neurite_tensor::Float;

use crate::{Model, Result, TrainError};

/// A network waiting for its loss, optimizer and metrics; [`ModelBuilder::compile`] checks
/// everything at once and gives the [`Model`]. Start one with [`Model::new`].
///
/// ```
/// use neurite_layers::{Activation, Dense, Flatten, Sequential};
/// use neurite_losses::SparseCategoricalCrossentropy;
/// use neurite_metrics::streaming::Accuracy;
/// use neurite_optim::{Adam, ExponentialDecay};
/// use neurite_train::Model;
///
/// let net = Sequential::<f32>::new()
///     .with_input_shape([1, 28, 28])
///     .add(Flatten::new())
///     .add(Dense::new(10).activation(Activation::Softmax));
/// let model = Model::new(net)
///     .loss(SparseCategoricalCrossentropy::default())
///     .optimizer(Adam::default().learning_rate(ExponentialDecay::new(1e-3, 10_000, 0.9).staircase(true)))
///     .metric(Accuracy::new())
///     .compile()?;
/// assert_eq!(model.metric_names(), ["accuracy"]);
///
/// // Problems are reported together, at compile.
/// let net = Sequential::<f32>::new().add(Dense::new(1));
/// let err = Model::new(net).optimizer(Adam::default().beta_1(1.5)).compile().unwrap_err().to_string();
/// assert!(err.contains("no loss") && err.contains("beta_1") && err.contains("input shape"), "{err}");
/// # Ok::<(), neurite_train::TrainError>(())
/// ```
pub struct ModelBuilder<F: Float + Score> {
    network: Sequential<F>,
    loss: Option<Box<dyn Loss<F>>>,
    optimizer: Option<Box<dyn Optimizer<F>>>,
    metrics: Vec<Box<dyn StreamingMetric<F>>>,
}

impl<F: Float + Score> fmt::Debug for ModelBuilder<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metrics: Vec<&str> = self.metrics.iter().map(|m| m.name()).collect();
        f.debug_struct("ModelBuilder")
            .field("network", &self.network)
            .field("loss", &self.loss.as_ref().map(|l| l.name()))
            .field("optimizer", &self.optimizer)
            .field("metrics", &metrics)
            .finish()
    }
}

impl<F: Float + Score> ModelBuilder<F> {
    pub(crate) fn new(network: Sequential<F>) -> Self {
        ModelBuilder {
            network,
            loss: None,
            optimizer: None,
            metrics: Vec::new(),
        }
    }

    /// The loss to minimise (Keras `loss=`).
    pub fn loss(mut self, loss: impl Loss<F> + 'static) -> Self {
        self.loss = Some(Box::new(loss));
        self
    }

    /// [`ModelBuilder::loss`] for one already boxed (a loss rebuilt from a model file).
    pub(crate) fn boxed_loss(mut self, loss: Box<dyn Loss<F>>) -> Self {
        self.loss = Some(loss);
        self
    }

    /// The optimizer (Keras `optimizer=`); its hyper-parameters are checked by `compile`.
    pub fn optimizer(self, optimizer: impl Optimizer<F> + 'static) -> Self {
        self.boxed_optimizer(Box::new(optimizer))
    }

    /// [`ModelBuilder::optimizer`] for one chosen at run time.
    pub fn boxed_optimizer(mut self, optimizer: Box<dyn Optimizer<F>>) -> Self {
        self.optimizer = Some(optimizer);
        self
    }

    /// Adds a metric reported by `fit` and `evaluate` (Keras `metrics=[...]`).
    pub fn metric(self, metric: impl StreamingMetric<F> + 'static) -> Self {
        self.boxed_metric(Box::new(metric))
    }

    /// [`ModelBuilder::metric`] for one chosen at run time.
    pub fn boxed_metric(mut self, metric: Box<dyn StreamingMetric<F>>) -> Self {
        self.metrics.push(metric);
        self
    }

    /// Builds the network for its input shape (unless it is built already), checks the
    /// optimizer's hyper-parameters and the metrics, and gives the model.
    ///
    /// # Errors
    /// [`TrainError::Invalid`] listing every problem found: no loss, no optimizer, no input
    /// shape (set it with `Sequential::with_input_shape`, Keras' `input_shape=`), two metrics
    /// of the same name, an invalid hyper-parameter; or the layer error of a network that
    /// cannot take its input shape.
    pub fn compile(self) -> Result<Model<F>> {
        let ModelBuilder {
            mut network,
            loss,
            optimizer,
            metrics,
        } = self;
        let mut problems: Vec<String> = Vec::new();
        if loss.is_none() {
            problems.push(String::from(
                "no loss: add `.loss(...)`, e.g. `.loss(SparseCategoricalCrossentropy::default())`",
            ));
        }
        match &optimizer {
            None => problems.push(String::from(
                "no optimizer: add `.optimizer(...)`, e.g. `.optimizer(Adam::default())`",
            )),
            Some(o) => {
                if let Err(e) = o.validate() {
                    problems.push(e.to_string());
                }
            }
        }
        let mut names: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            problems.push(format!("two metrics are named `{}`", w[0]));
        }
        if network.input_shape().is_none() {
            match network.declared_input_shape().map(<[usize]>::to_vec) {
                Some(shape) if problems.is_empty() => network.build(&shape)?,
                Some(_) => {}
                None => problems.push(String::from(
                    "the network has no input shape: declare it with \
                     `Sequential::new().with_input_shape([1, 28, 28])` (Keras `input_shape=`), \
                     or call `network.build(&shape)`",
                )),
            }
        }
        match (loss, optimizer) {
            (Some(loss), Some(optimizer)) if problems.is_empty() => {
                Ok(Model::from_parts(network, loss, optimizer, metrics))
            }
            _ => Err(TrainError::invalid("Model::compile", problems.join("; "))),
        }
    }
}
