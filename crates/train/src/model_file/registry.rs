//! [`Registry`]: constructors for user-defined layers, optimizers, losses and metrics, looked
//! up by the name their saved config records, so that models using them load like any other.

use std::collections::BTreeMap;

use neurite_layers::{CustomLayerConfig, Layer, LayerConfig, LayerError};
use neurite_losses::{Loss, LossConfig};
use neurite_metrics::Score;
use neurite_metrics::streaming::{MetricConfig, StreamingMetric};
use neurite_optim::{Optimizer, OptimizerConfig};
use neurite_tensor::Float;

type LayerFn<F> =
    Box<dyn Fn(&CustomLayerConfig) -> Result<Box<dyn Layer<F>>, String> + Send + Sync>;
type OptimizerFn<F> =
    Box<dyn Fn(&serde_json::Value) -> Result<Box<dyn Optimizer<F>>, String> + Send + Sync>;
type LossFn<F> = Box<dyn Fn() -> Box<dyn Loss<F>> + Send + Sync>;
type MetricFn<F> = Box<dyn Fn() -> Box<dyn StreamingMetric<F>> + Send + Sync>;

/// Constructors of user-defined parts, by name, for loading model files that use them (Keras'
/// `custom_objects`). neurite's own layers, optimizers, losses and metrics need no entry.
///
/// A user-defined layer saves itself as a [`LayerConfig::Custom`] (its [`Layer::config`]);
/// a user-defined optimizer as an [`OptimizerConfig::Custom`]; a user-defined loss or metric is
/// recorded by its name. Loading finds the constructor registered under that name:
///
/// ```
/// use neurite_layers::{CustomLayerConfig, Layer, Sequential};
/// use neurite_train::model_file::Registry;
/// # fn scale_from(config: &CustomLayerConfig) -> Result<Box<dyn Layer<f32>>, String> {
/// #     Err(String::from("not in this example"))
/// # }
/// let registry = Registry::<f32>::new().layer("Scale", scale_from);
/// assert!(registry.has_layer("Scale"));
/// ```
pub struct Registry<F: Float> {
    layers: BTreeMap<String, LayerFn<F>>,
    optimizers: BTreeMap<String, OptimizerFn<F>>,
    losses: BTreeMap<String, LossFn<F>>,
    metrics: BTreeMap<String, MetricFn<F>>,
}

impl<F: Float> Default for Registry<F> {
    fn default() -> Self {
        Registry {
            layers: BTreeMap::new(),
            optimizers: BTreeMap::new(),
            losses: BTreeMap::new(),
            metrics: BTreeMap::new(),
        }
    }
}

impl<F: Float> std::fmt::Debug for Registry<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("layers", &self.layers.keys().collect::<Vec<_>>())
            .field("optimizers", &self.optimizers.keys().collect::<Vec<_>>())
            .field("losses", &self.losses.keys().collect::<Vec<_>>())
            .field("metrics", &self.metrics.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<F: Float> Registry<F> {
    /// An empty registry: only neurite's own parts load.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the constructor of the user-defined layer class `class`: given the layer's
    /// saved config (name, class, settings), it returns the unbuilt layer or says why not.
    pub fn layer(
        mut self,
        class: &str,
        build: impl Fn(&CustomLayerConfig) -> Result<Box<dyn Layer<F>>, String> + Send + Sync + 'static,
    ) -> Self {
        self.layers.insert(class.to_string(), Box::new(build));
        self
    }

    /// Registers the constructor of the user-defined optimizer class `class`: given its saved
    /// settings, it returns the optimizer with fresh state (the saved state is loaded into it
    /// afterwards with [`Optimizer::load_state`]).
    pub fn optimizer(
        mut self,
        class: &str,
        build: impl Fn(&serde_json::Value) -> Result<Box<dyn Optimizer<F>>, String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.optimizers.insert(class.to_string(), Box::new(build));
        self
    }

    /// Registers the constructor of the user-defined loss named `name` ([`Loss::name`]).
    pub fn loss(
        mut self,
        name: &str,
        build: impl Fn() -> Box<dyn Loss<F>> + Send + Sync + 'static,
    ) -> Self {
        self.losses.insert(name.to_string(), Box::new(build));
        self
    }

    /// Registers the constructor of the user-defined metric named `name`
    /// ([`StreamingMetric::name`]).
    pub fn metric(
        mut self,
        name: &str,
        build: impl Fn() -> Box<dyn StreamingMetric<F>> + Send + Sync + 'static,
    ) -> Self {
        self.metrics.insert(name.to_string(), Box::new(build));
        self
    }

    /// Whether a constructor is registered for the layer class `class`.
    pub fn has_layer(&self, class: &str) -> bool {
        self.layers.contains_key(class)
    }

    /// The unbuilt layer `config` describes, through the registered constructor for a
    /// user-defined one (which keeps the saved name).
    pub(crate) fn build_layer(
        &self,
        config: &LayerConfig,
    ) -> Result<Box<dyn Layer<F>>, LayerError> {
        let LayerConfig::Custom(custom) = config else {
            return config.build();
        };
        let Some(build) = self.layers.get(&custom.class) else {
            return config.build(); // the error that says to register it
        };
        let mut layer = build(custom).map_err(|reason| LayerError::Config {
            layer: format!("{} '{}'", custom.class, custom.name),
            name: "config",
            value: custom.config.to_string(),
            reason,
        })?;
        layer.set_name(&custom.name);
        Ok(layer)
    }

    /// The optimizer `config` describes, fresh; `Err` says what is missing or wrong.
    pub(crate) fn build_optimizer(
        &self,
        config: &OptimizerConfig,
    ) -> Result<Box<dyn Optimizer<F>>, String> {
        match config {
            OptimizerConfig::Custom(custom) => match self.optimizers.get(&custom.class_name) {
                Some(build) => build(&custom.config)
                    .map_err(|e| format!("optimizer '{}': {e}", custom.class_name)),
                None => Err(format!(
                    "the optimizer '{}' is user-defined: register its constructor with \
                     Registry::optimizer and load with Model::load_registered",
                    custom.class_name
                )),
            },
            builtin => builtin.build().map_err(|e| e.to_string()),
        }
    }

    /// The loss `config` describes.
    pub(crate) fn build_loss(&self, config: &LossConfig) -> Result<Box<dyn Loss<F>>, String> {
        match config {
            LossConfig::Custom { name } => match self.losses.get(name) {
                Some(build) => Ok(build()),
                None => Err(format!(
                    "the loss '{name}' is user-defined: register its constructor with \
                     Registry::loss and load with Model::load_registered"
                )),
            },
            builtin => builtin
                .build()
                .ok_or_else(|| format!("no constructor for the loss {builtin:?}")),
        }
    }

    /// A fresh metric of `config`.
    pub(crate) fn build_metric(
        &self,
        config: &MetricConfig,
    ) -> Result<Box<dyn StreamingMetric<F>>, String>
    where
        F: Score,
    {
        match config {
            MetricConfig::Custom { name } => match self.metrics.get(name) {
                Some(build) => Ok(build()),
                None => Err(format!(
                    "the metric '{name}' is user-defined: register its constructor with \
                     Registry::metric and load with Model::load_registered"
                )),
            },
            builtin => match builtin.build() {
                Some(metric) => metric.map_err(|e| e.to_string()),
                None => Err(format!("no constructor for the metric {builtin:?}")),
            },
        }
    }
}
