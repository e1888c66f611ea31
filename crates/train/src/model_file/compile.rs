//! `CompileConfig`: the loss, the optimizer and the metrics a model was compiled with, as a
//! model file records them (metadata `training.compile`, JSON), so that `Model::load` hands
//! back a model ready to `fit`.

use neurite_losses::LossConfig;
use neurite_metrics::streaming::MetricConfig;
use neurite_optim::OptimizerConfig;
use serde::{Deserialize, Serialize};

/// What `Model::compile` was given, in serializable form: the loss with its settings, the
/// optimizer with its hyper-parameters and schedule (its learning rate as it was when saved),
/// and the metrics in order.
///
/// ```
/// use neurite_losses::LossConfig;
/// use neurite_optim::{AdamConfig, OptimizerConfig};
/// use neurite_train::model_file::CompileConfig;
/// let config = CompileConfig {
///     loss: LossConfig::MeanSquaredError,
///     optimizer: OptimizerConfig::Adam(AdamConfig::default()),
///     metrics: Vec::new(),
/// };
/// let json = serde_json::to_string(&config).unwrap();
/// assert!(json.starts_with(r#"{"loss":{"class_name":"MeanSquaredError"},"optimizer":{"Adam""#));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompileConfig {
    /// The loss.
    pub loss: LossConfig,
    /// The optimizer's kind and hyper-parameters (its state is stored as tensors).
    pub optimizer: OptimizerConfig,
    /// The metrics, in the order they were given.
    pub metrics: Vec<MetricConfig>,
}
