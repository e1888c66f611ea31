//! neurite-metrics: evaluate a classifier the way scikit-learn does, and plot the results.
//!
//! Every metric gives the same value as scikit-learn with default settings (checked to 1e-12 on
//! thousands of random cases by `cargo xtask verify-metrics`). Inputs are plain slices of class
//! labels (`usize`) and [`ndarray`] views of scores, `f32` or `f64` ([`Score`]). Classes are the
//! indices `0..n_classes`, as if scikit-learn were called with `labels=range(n_classes)`.
//!
//! | module | what |
//! |---|---|
//! | [`accuracy()`], [`accuracy_from_scores`], [`top_k_accuracy`], [`binary_accuracy`] | accuracies |
//! | [`ConfusionMatrix`] | counts and normalized by row, column or total |
//! | [`ClassScores`], [`precision_score`], [`recall_score`], [`f1_score`] | per class and averaged |
//! | [`classification_report`] | scikit-learn's text report |
//! | [`roc_curve`], [`roc_auc_score`], [`roc_auc_ovr`], [`auc`] | ROC |
//! | [`precision_recall_curve`], [`average_precision_score`], [`average_precision_ovr`] | PR |
//! | [`streaming`] | per-batch metrics for the training loop |
//! | [`plot`] | training curves, confusion heat map, ROC and PR curves, misclassified images (SVG/PNG) |
//!
//! Differences from scikit-learn, all deliberate: where scikit-learn returns NaN with a warning
//! (ROC AUC with one class present), neurite returns [`MetricError::Undefined`]; zero divisions
//! in precision/recall/F1 count as 0 (scikit-learn's default `zero_division="warn"`, without the
//! warning); one-vs-rest ROC AUC does not require rows of scores to sum to 1.
//!
//! ```
//! use ndarray::array;
//! use neurite_metrics::{Average, ClassScores, ConfusionMatrix, accuracy_from_scores};
//!
//! let probabilities = array![[0.7f32, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]];
//! let labels = [0, 1, 2, 1];
//! assert_eq!(accuracy_from_scores(&labels, probabilities.view()).unwrap(), 0.75);
//! let predicted = neurite_metrics::predicted_classes(probabilities.view());
//! let cm = ConfusionMatrix::new(&labels, &predicted, 3).unwrap();
//! assert_eq!(cm.counts()[[1, 0]], 1);
//! let macro_f1 = ClassScores::from_confusion(&cm).average(Average::Macro).f1;
//! assert!((macro_f1 - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
//! ```

mod accuracy;
mod confusion;
mod error;
#[cfg(feature = "plot")]
pub mod plot;
mod pr;
mod prf;
mod ranking;
mod report;
mod roc;
mod score;
pub mod streaming;
mod validate;

pub use accuracy::{
    accuracy, accuracy_from_scores, binary_accuracy, predicted_classes, top_k_accuracy,
};
pub use confusion::{ConfusionMatrix, Normalize};
pub use error::{MetricError, Result};
pub use pr::{
    PrecisionRecallCurve, average_precision_ovr, average_precision_score, precision_recall_curve,
    precision_recall_curves_ovr,
};
pub use prf::{Average, ClassScores, Scores, f1_score, precision_score, recall_score};
pub use report::{class_index_names, classification_report, format_report};
pub use roc::{RocCurve, auc, roc_auc_ovr, roc_auc_score, roc_curve, roc_curves_ovr};
pub use score::Score;
