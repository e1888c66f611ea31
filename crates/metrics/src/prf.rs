//! Precision, recall and F1 per class and averaged (macro, weighted, micro).
//!
//! Zero division follows scikit-learn's default `zero_division="warn"`: a ratio whose
//! denominator is zero (precision of a class never predicted, recall of a class absent from the
//! truth, F1 of a class neither true nor predicted) counts as 0. scikit-learn also prints a
//! warning; neurite does not.

use crate::Result;
use crate::confusion::ConfusionMatrix;

/// How per-class scores are combined into one number; scikit-learn's `average` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// Unweighted mean over classes: every class counts the same.
    Macro,
    /// Mean over classes weighted by support (number of true samples of each class).
    Weighted,
    /// Computed from the global counts of true positives, predictions and true samples; for
    /// single-label classification micro precision = recall = F1 = accuracy.
    Micro,
}

/// Precision, recall and F1 of one class, or an average over classes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Correct predictions of the class / all predictions of the class.
    pub precision: f64,
    /// Correct predictions of the class / all true samples of the class.
    pub recall: f64,
    /// Harmonic mean of precision and recall, `2 tp / (true + predicted)`.
    pub f1: f64,
}

/// Per-class precision, recall, F1 and support of a classifier, for classes `0..n`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScores {
    /// Precision of each class.
    pub precision: Vec<f64>,
    /// Recall of each class.
    pub recall: Vec<f64>,
    /// F1 of each class.
    pub f1: Vec<f64>,
    /// True samples of each class.
    pub support: Vec<u64>,
    /// Samples predicted as each class.
    pub predicted: Vec<u64>,
    /// Correct predictions of each class.
    pub true_positives: Vec<u64>,
}

/// `numerator / denominator`, or 0 when the denominator is 0 (scikit-learn's default).
fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// F1 from counts, the way scikit-learn computes it: `2 tp / (true + predicted)`.
fn f1_from_counts(tp: f64, true_count: f64, predicted: f64) -> f64 {
    ratio(2.0 * tp, true_count + predicted)
}

impl ClassScores {
    /// Scores of every class of a confusion matrix.
    pub fn from_confusion(cm: &ConfusionMatrix) -> Self {
        let support = cm.support();
        let predicted = cm.predicted();
        let true_positives = cm.true_positives();
        let per_class = |f: fn(f64, f64, f64) -> f64| -> Vec<f64> {
            (0..cm.n_classes())
                .map(|c| {
                    f(
                        true_positives[c] as f64,
                        support[c] as f64,
                        predicted[c] as f64,
                    )
                })
                .collect()
        };
        Self {
            precision: per_class(|tp, _, pred| ratio(tp, pred)),
            recall: per_class(|tp, truth, _| ratio(tp, truth)),
            f1: per_class(f1_from_counts),
            support,
            predicted,
            true_positives,
        }
    }

    /// Scores of every class from labels `0..n_classes`.
    ///
    /// Same as scikit-learn's `precision_recall_fscore_support(y_true, y_pred,
    /// labels=range(n_classes), average=None)`.
    ///
    /// ```
    /// use neurite_metrics::{Average, ClassScores};
    /// let scores = ClassScores::new(&[0, 0, 1, 2], &[0, 1, 1, 1], 3).unwrap();
    /// assert_eq!(scores.precision, vec![1.0, 1.0 / 3.0, 0.0]); // class 2 never predicted -> 0
    /// assert_eq!(scores.recall, vec![0.5, 1.0, 0.0]);
    /// assert_eq!(scores.average(Average::Micro).f1, 0.5); // = accuracy
    /// ```
    ///
    /// # Errors
    /// Length mismatch, no samples, no classes, or a label `>= n_classes`.
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        Ok(Self::from_confusion(&ConfusionMatrix::new(
            y_true, y_pred, n_classes,
        )?))
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.support.len()
    }

    /// Scores of class `class`, or `None` if there is no such class.
    pub fn class(&self, class: usize) -> Option<Scores> {
        Some(Scores {
            precision: *self.precision.get(class)?,
            recall: *self.recall.get(class)?,
            f1: *self.f1.get(class)?,
        })
    }

    /// The scores averaged over classes.
    pub fn average(&self, average: Average) -> Scores {
        match average {
            Average::Micro => {
                let sum = |v: &[u64]| v.iter().sum::<u64>() as f64;
                let (tp, truth, pred) = (
                    sum(&self.true_positives),
                    sum(&self.support),
                    sum(&self.predicted),
                );
                Scores {
                    precision: ratio(tp, pred),
                    recall: ratio(tp, truth),
                    f1: f1_from_counts(tp, truth, pred),
                }
            }
            Average::Macro => Scores {
                precision: mean(&self.precision),
                recall: mean(&self.recall),
                f1: mean(&self.f1),
            },
            Average::Weighted => Scores {
                precision: self.weighted_mean(&self.precision),
                recall: self.weighted_mean(&self.recall),
                f1: self.weighted_mean(&self.f1),
            },
        }
    }

    fn weighted_mean(&self, values: &[f64]) -> f64 {
        let total: f64 = self.support.iter().map(|&s| s as f64).sum();
        let weighted: f64 = values
            .iter()
            .zip(&self.support)
            .map(|(v, &s)| v * s as f64)
            .sum();
        ratio(weighted, total)
    }
}

fn mean(values: &[f64]) -> f64 {
    ratio(values.iter().sum(), values.len() as f64)
}

/// Precision averaged over classes `0..n_classes`; scikit-learn's `precision_score(y_true,
/// y_pred, labels=range(n_classes), average=...)`.
///
/// # Errors
/// As [`ClassScores::new`].
pub fn precision_score(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    average: Average,
) -> Result<f64> {
    Ok(ClassScores::new(y_true, y_pred, n_classes)?
        .average(average)
        .precision)
}

/// Recall averaged over classes `0..n_classes`; scikit-learn's `recall_score`.
///
/// # Errors
/// As [`ClassScores::new`].
pub fn recall_score(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    average: Average,
) -> Result<f64> {
    Ok(ClassScores::new(y_true, y_pred, n_classes)?
        .average(average)
        .recall)
}

/// F1 averaged over classes `0..n_classes`; scikit-learn's `f1_score`.
///
/// ```
/// use neurite_metrics::{f1_score, Average};
/// let f1 = f1_score(&[0, 1, 1], &[0, 1, 0], 2, Average::Macro).unwrap();
/// assert!((f1 - (2.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
/// ```
///
/// # Errors
/// As [`ClassScores::new`].
pub fn f1_score(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    average: Average,
) -> Result<f64> {
    Ok(ClassScores::new(y_true, y_pred, n_classes)?
        .average(average)
        .f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_division_gives_zero() {
        // Class 1 absent from the truth and never predicted; class 2 predicted but never true.
        let s = ClassScores::new(&[0, 0, 0], &[0, 2, 2], 3).unwrap();
        assert_eq!(s.precision, vec![1.0, 0.0, 0.0]);
        assert_eq!(s.recall, vec![1.0 / 3.0, 0.0, 0.0]);
        assert_eq!(s.f1, vec![0.5, 0.0, 0.0]);
        assert_eq!(s.average(Average::Macro).precision, 1.0 / 3.0);
        // Weighted by support: only class 0 has support.
        assert_eq!(s.average(Average::Weighted).f1, 0.5);
        assert_eq!(s.average(Average::Micro).precision, 1.0 / 3.0);
        assert_eq!(s.class(3), None);
    }
}
