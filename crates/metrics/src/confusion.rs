//! Confusion matrix: counts of (true class, predicted class) pairs, and its normalized forms.

use ndarray::Array2;

use crate::Result;
use crate::validate::{class_count, labels_in_range, same_length};

/// How to normalize a confusion matrix; scikit-learn's `normalize` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalize {
    /// Divide each row by its sum (the true class count): the diagonal is recall.
    True,
    /// Divide each column by its sum (the predicted class count): the diagonal is precision.
    Pred,
    /// Divide every cell by the number of samples.
    All,
}

/// Counts of samples per (true class, predicted class): `counts[[t, p]]`.
///
/// Rows are true classes and columns predicted classes, as in scikit-learn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    counts: Array2<u64>,
}

impl ConfusionMatrix {
    /// Counts the pairs `(y_true[i], y_pred[i])` for classes `0..n_classes`.
    ///
    /// Same as scikit-learn's `confusion_matrix(y_true, y_pred, labels=range(n_classes))`.
    ///
    /// ```
    /// use neurite_metrics::ConfusionMatrix;
    /// let cm = ConfusionMatrix::new(&[0, 1, 1, 2], &[0, 1, 2, 2], 3).unwrap();
    /// assert_eq!(cm.counts()[[1, 2]], 1);
    /// assert_eq!(cm.counts().diag().sum(), 3);
    /// ```
    ///
    /// # Errors
    /// Length mismatch, no samples, no classes, or a label `>= n_classes`.
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        const METRIC: &str = "confusion_matrix";
        class_count(METRIC, n_classes, 1)?;
        same_length(METRIC, "y_pred", y_true.len(), y_pred.len())?;
        labels_in_range(METRIC, "y_true", y_true, n_classes)?;
        labels_in_range(METRIC, "y_pred", y_pred, n_classes)?;
        let mut counts = Array2::zeros((n_classes, n_classes));
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[[t, p]] += 1;
        }
        Ok(Self { counts })
    }

    /// The raw counts, `[true class, predicted class]`.
    pub fn counts(&self) -> &Array2<u64> {
        &self.counts
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.counts.nrows()
    }

    /// The number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.sum()
    }

    /// Samples of each true class (row sums): scikit-learn's "support".
    pub fn support(&self) -> Vec<u64> {
        self.counts.rows().into_iter().map(|r| r.sum()).collect()
    }

    /// Samples predicted as each class (column sums).
    pub fn predicted(&self) -> Vec<u64> {
        self.counts.columns().into_iter().map(|c| c.sum()).collect()
    }

    /// Correct predictions of each class (the diagonal).
    pub fn true_positives(&self) -> Vec<u64> {
        self.counts.diag().to_vec()
    }

    /// The matrix divided by row sums, column sums or the total.
    ///
    /// As in scikit-learn, a row or column that sums to zero (a class absent from the truth or
    /// never predicted) gives zeros rather than NaN.
    pub fn normalized(&self, by: Normalize) -> Array2<f64> {
        let rows = self.support();
        let cols = self.predicted();
        let total = self.total();
        Array2::from_shape_fn(self.counts.dim(), |(t, p)| {
            let denominator = match by {
                Normalize::True => rows[t],
                Normalize::Pred => cols[p],
                Normalize::All => total,
            };
            if denominator == 0 {
                0.0
            } else {
                self.counts[[t, p]] as f64 / denominator as f64
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::MetricError;

    #[test]
    fn counts_and_normalizations() {
        // Class 2 is never predicted and never true; class 1 is predicted but never true.
        let cm = ConfusionMatrix::new(&[0, 0, 0, 3], &[0, 1, 1, 3], 4).unwrap();
        assert_eq!(
            cm.counts(),
            array![[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
        );
        let by_true = cm.normalized(Normalize::True);
        assert_eq!(
            by_true.row(0).to_vec(),
            vec![1.0 / 3.0, 2.0 / 3.0, 0.0, 0.0]
        );
        assert_eq!(by_true.row(1).sum(), 0.0);
        let by_pred = cm.normalized(Normalize::Pred);
        assert_eq!(by_pred.column(1).to_vec(), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(cm.normalized(Normalize::All)[[0, 1]], 0.5);
    }

    #[test]
    fn rejects_out_of_range_labels() {
        assert!(matches!(
            ConfusionMatrix::new(&[0, 5], &[0, 1], 3),
            Err(MetricError::LabelOutOfRange {
                label: 5,
                index: 1,
                ..
            })
        ));
        assert!(ConfusionMatrix::new(&[], &[], 3).is_err());
        assert!(ConfusionMatrix::new(&[0], &[0], 0).is_err());
    }
}
