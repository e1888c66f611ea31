//! Metrics that accumulate batch by batch during training and report once per epoch.
//!
//! A training loop calls [`StreamingMetric::update`] after every batch, reads
//! [`StreamingMetric::result`] at the end of the epoch, then calls [`StreamingMetric::reset`].
//! The loss is averaged with [`Mean`], weighted by batch size so the last, smaller batch counts
//! for what it holds.
//!
//! ```
//! use ndarray::array;
//! use neurite_metrics::streaming::{Accuracy, StreamingMetric, Targets};
//!
//! let mut accuracy = Accuracy::new();
//! let batch1 = array![[0.9f32, 0.1], [0.2, 0.8]];
//! accuracy.update(batch1.view(), Targets::Labels(&[0, 0])).unwrap();
//! let batch2 = array![[0.3f32, 0.7]];
//! accuracy.update(batch2.view(), Targets::Labels(&[1])).unwrap();
//! assert!((accuracy.result() - 2.0 / 3.0).abs() < 1e-12);
//! accuracy.reset();
//! assert!(accuracy.result().is_nan());
//! ```

mod accuracy;
mod config;
mod mean;

pub use accuracy::{Accuracy, BinaryAccuracy, SparseCategoricalAccuracy, TopKAccuracy};
pub use config::MetricConfig;
pub use mean::Mean;

use ndarray::ArrayView2;

use crate::{Result, Score};

/// What a batch's predictions are compared with.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a, F> {
    /// One class index per row of predictions.
    Labels(&'a [usize]),
    /// Dense targets with one row per row of predictions: one-hot rows for categorical metrics,
    /// 0/1 values for binary accuracy, or a single column of class indices for
    /// [`SparseCategoricalAccuracy`] (Keras' layout).
    Dense(ArrayView2<'a, F>),
}

/// A metric accumulated over batches.
///
/// Implementations keep running counts only (no per-sample storage), so memory does not grow
/// with the epoch. `result` is NaN until the first sample is counted, so an epoch without data is
/// never reported as 0 %.
pub trait StreamingMetric<F: Score>: Send {
    /// Short name for logs and history keys, e.g. `"accuracy"`.
    fn name(&self) -> &str;

    /// Adds one batch: `predictions` is `[batch, outputs]` (probabilities or logits).
    ///
    /// # Errors
    /// A shape that does not match the targets, or a label out of range; the metric is left
    /// unchanged when an error is returned.
    fn update(&mut self, predictions: ArrayView2<'_, F>, targets: Targets<'_, F>) -> Result<()>;

    /// The value over all batches since the last reset (NaN if there were none).
    fn result(&self) -> f64;

    /// Forgets all batches, ready for the next epoch.
    fn reset(&mut self);

    /// The metric and its settings, as a model file records them. The default, for a metric
    /// defined outside neurite, is [`MetricConfig::Custom`] with [`StreamingMetric::name`].
    fn config(&self) -> MetricConfig {
        MetricConfig::Custom {
            name: self.name().to_string(),
        }
    }
}
