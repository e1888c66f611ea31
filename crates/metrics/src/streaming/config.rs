//! `MetricConfig`: which streaming metric, with which settings, in a form a model file can
//! record.

use serde::{Deserialize, Serialize};

use super::{Accuracy, BinaryAccuracy, SparseCategoricalAccuracy, StreamingMetric, TopKAccuracy};
use crate::{Result, Score};

/// A streaming metric and its settings, serializable, so a saved model is compiled again with
/// the metrics it was trained with ([`StreamingMetric::config`] gives it,
/// [`MetricConfig::build`] rebuilds the metric, empty).
///
/// ```
/// use neurite_metrics::streaming::{MetricConfig, StreamingMetric, TopKAccuracy};
/// let config = TopKAccuracy::<f32>::new(5).unwrap().config();
/// assert_eq!(config, MetricConfig::TopKAccuracy { k: 5 });
/// let json = serde_json::to_string(&config).unwrap();
/// let back: MetricConfig = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.build::<f32>().unwrap().unwrap().name(), "top_5_accuracy");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
pub enum MetricConfig {
    /// [`Accuracy`].
    Accuracy,
    /// [`SparseCategoricalAccuracy`].
    SparseCategoricalAccuracy,
    /// [`TopKAccuracy`] with its `k`.
    TopKAccuracy {
        /// How many of the highest scores may hold the true class.
        k: usize,
    },
    /// [`BinaryAccuracy`] with its threshold.
    BinaryAccuracy {
        /// Outputs above it count as class 1.
        threshold: f64,
    },
    /// A metric defined outside neurite, known by its [`StreamingMetric::name`]; rebuilding it
    /// takes a constructor the caller registers under that name.
    Custom {
        /// The metric's name.
        name: String,
    },
}

impl MetricConfig {
    /// A fresh metric of this config; `None` for [`MetricConfig::Custom`], which only its owner
    /// can build.
    ///
    /// # Errors
    /// The metric's own check of its settings (`k` = 0).
    pub fn build<F: Score>(&self) -> Option<Result<Box<dyn StreamingMetric<F>>>> {
        let metric: Box<dyn StreamingMetric<F>> = match self {
            MetricConfig::Accuracy => Box::new(Accuracy::new()),
            MetricConfig::SparseCategoricalAccuracy => Box::new(SparseCategoricalAccuracy::new()),
            MetricConfig::TopKAccuracy { k } => match TopKAccuracy::new(*k) {
                Ok(m) => Box::new(m),
                Err(e) => return Some(Err(e)),
            },
            MetricConfig::BinaryAccuracy { threshold } => Box::new(BinaryAccuracy::new(*threshold)),
            MetricConfig::Custom { .. } => return None,
        };
        Some(Ok(metric))
    }
}
