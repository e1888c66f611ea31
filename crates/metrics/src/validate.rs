//! Input checks shared by the metrics: lengths, label ranges, finite scores.

use ndarray::{ArrayView1, ArrayView2};

use crate::{MetricError, Result, Score};

/// Fails unless `got == expected` and there is at least one sample.
pub(crate) fn same_length(
    metric: &'static str,
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<()> {
    if got != expected {
        return Err(MetricError::LengthMismatch {
            metric,
            what,
            expected,
            got,
        });
    }
    if expected == 0 {
        return Err(MetricError::Empty { metric });
    }
    Ok(())
}

/// Fails unless every label is below `n_classes`.
pub(crate) fn labels_in_range(
    metric: &'static str,
    what: &'static str,
    labels: &[usize],
    n_classes: usize,
) -> Result<()> {
    match labels.iter().position(|&label| label >= n_classes) {
        Some(index) => Err(MetricError::LabelOutOfRange {
            metric,
            what,
            index,
            label: labels[index],
            n_classes,
        }),
        None => Ok(()),
    }
}

/// Fails unless every label is 0 or 1 (the positive class is 1).
pub(crate) fn binary_labels(metric: &'static str, labels: &[usize]) -> Result<()> {
    labels_in_range(metric, "y_true", labels, 2)
}

/// Fails unless `n_classes` is at least `min`.
pub(crate) fn class_count(metric: &'static str, n_classes: usize, min: usize) -> Result<()> {
    if n_classes < min {
        return Err(MetricError::InvalidArgument {
            metric,
            name: "n_classes",
            value: n_classes.to_string(),
            hint: format!("at least {min} classes are needed"),
        });
    }
    Ok(())
}

/// Converts finite scores to `f64`, failing on the first NaN or infinity.
pub(crate) fn finite_scores_1d<F: Score>(
    metric: &'static str,
    scores: ArrayView1<'_, F>,
) -> Result<Vec<f64>> {
    scores
        .iter()
        .enumerate()
        .map(|(row, &s)| {
            let value: f64 = s.into();
            if value.is_finite() {
                Ok(value)
            } else {
                Err(MetricError::NonFiniteScore {
                    metric,
                    row,
                    column: 0,
                    value,
                })
            }
        })
        .collect()
}

/// Fails on the first NaN or infinite entry of a `[samples, classes]` score matrix.
pub(crate) fn finite_scores_2d<F: Score>(
    metric: &'static str,
    scores: ArrayView2<'_, F>,
) -> Result<()> {
    for ((row, column), &s) in scores.indexed_iter() {
        let value: f64 = s.into();
        if !value.is_finite() {
            return Err(MetricError::NonFiniteScore {
                metric,
                row,
                column,
                value,
            });
        }
    }
    Ok(())
}

/// Fails unless `scores` is `[y_true.len(), n_classes]` with `n_classes >= min_classes`.
pub(crate) fn score_matrix<F: Score>(
    metric: &'static str,
    n_samples: usize,
    scores: ArrayView2<'_, F>,
    min_classes: usize,
) -> Result<usize> {
    let (rows, n_classes) = scores.dim();
    if rows != n_samples || n_classes < min_classes {
        return Err(MetricError::Shape {
            metric,
            expected: format!("scores of shape [{n_samples} samples, classes >= {min_classes}]"),
            got: vec![rows, n_classes],
            hint: "pass one row of class scores per sample",
        });
    }
    Ok(n_classes)
}
