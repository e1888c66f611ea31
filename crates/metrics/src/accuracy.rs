//! Accuracy from labels, from class scores (probabilities or logits), top-k, and binary with a
//! threshold.
//!
//! Results equal scikit-learn's `accuracy_score` and `top_k_accuracy_score` (default settings).

use ndarray::{ArrayView1, ArrayView2};

use crate::validate::{
    binary_labels, finite_scores_1d, finite_scores_2d, same_length, score_matrix,
};
use crate::{MetricError, Result, Score};

/// Fraction of samples whose predicted label equals the true label.
///
/// Same as scikit-learn's `accuracy_score(y_true, y_pred)`.
///
/// ```
/// let acc = neurite_metrics::accuracy(&[0, 1, 2, 2], &[0, 2, 2, 2]).unwrap();
/// assert_eq!(acc, 0.75);
/// ```
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64> {
    same_length("accuracy", "y_pred", y_true.len(), y_pred.len())?;
    let hits = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(hits as f64 / y_true.len() as f64)
}

/// Index of the largest score in each row; on ties the first (lowest) index wins, as numpy's
/// `argmax` does. NaN never wins; a row of only NaN predicts class 0.
///
/// # Shapes
/// `scores`: `[samples, classes]`; returns `samples` labels.
pub fn predicted_classes<F: Score>(scores: ArrayView2<'_, F>) -> Vec<usize> {
    scores.rows().into_iter().map(|row| argmax(row)).collect()
}

/// Index of the first maximum of `row`, skipping NaN (0 if `row` is empty or all NaN).
pub(crate) fn argmax<F: Score>(row: ArrayView1<'_, F>) -> usize {
    let mut best: Option<(usize, F)> = None;
    for (i, &value) in row.iter().enumerate() {
        if value.is_nan() {
            continue;
        }
        match best {
            Some((_, top)) if value <= top => {}
            _ => best = Some((i, value)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// Accuracy of the arg-max of class scores (probabilities or logits) against integer labels.
///
/// Equal to `accuracy_score(y_true, scores.argmax(axis=1))` in scikit-learn/numpy; ties go to the
/// lowest class index.
///
/// # Shapes
/// `y_true`: `samples` labels; `scores`: `[samples, classes]`.
///
/// # Errors
/// Length or shape mismatch, no samples, or a non-finite score.
pub fn accuracy_from_scores<F: Score>(y_true: &[usize], scores: ArrayView2<'_, F>) -> Result<f64> {
    const METRIC: &str = "accuracy_from_scores";
    same_length(METRIC, "y_true", scores.nrows(), y_true.len())?;
    score_matrix(METRIC, y_true.len(), scores, 1)?;
    finite_scores_2d(METRIC, scores)?;
    accuracy(y_true, &predicted_classes(scores))
}

/// Whether `label` is among the `k` best classes of `row`, with scikit-learn's tie rule.
///
/// scikit-learn ranks classes by a stable ascending sort that is then reversed, so among equal
/// scores the *higher* class index ranks first. A class is in the top k when fewer than k classes
/// rank above it.
pub(crate) fn in_top_k<F: Score>(row: ArrayView1<'_, F>, label: usize, k: usize) -> bool {
    let Some(&own) = row.get(label) else {
        return false;
    };
    let ranked_above = row
        .iter()
        .enumerate()
        .filter(|&(j, &s)| s > own || (s == own && j > label))
        .count();
    ranked_above < k
}

/// Fraction of samples whose true class is among the `k` highest scores.
///
/// Same as scikit-learn's `top_k_accuracy_score(y_true, scores, k=k, labels=range(classes))` for
/// three or more classes, including its tie handling: among equal scores the higher class index
/// ranks first. With `k >= classes` every sample is a hit (scikit-learn warns; this returns 1).
///
/// # Shapes
/// `y_true`: `samples` labels; `scores`: `[samples, classes]`.
///
/// ```
/// use ndarray::array;
/// let scores = array![[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.4, 0.4, 0.2]];
/// let top2 = neurite_metrics::top_k_accuracy(&[1, 0, 0], scores.view(), 2).unwrap();
/// assert!((top2 - 2.0 / 3.0).abs() < 1e-15);
/// ```
///
/// # Errors
/// `k == 0`, length or shape mismatch, no samples, a label `>= classes`, a non-finite score.
pub fn top_k_accuracy<F: Score>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
    k: usize,
) -> Result<f64> {
    const METRIC: &str = "top_k_accuracy";
    if k == 0 {
        return Err(MetricError::InvalidArgument {
            metric: METRIC,
            name: "k",
            value: "0".into(),
            hint: "k counts the best classes to accept and must be at least 1".into(),
        });
    }
    same_length(METRIC, "y_true", scores.nrows(), y_true.len())?;
    let n_classes = score_matrix(METRIC, y_true.len(), scores, 1)?;
    crate::validate::labels_in_range(METRIC, "y_true", y_true, n_classes)?;
    finite_scores_2d(METRIC, scores)?;
    let hits = scores
        .rows()
        .into_iter()
        .zip(y_true)
        .filter(|(row, label)| in_top_k(row.view(), **label, k))
        .count();
    Ok(hits as f64 / y_true.len() as f64)
}

/// Fraction of samples where `score > threshold` agrees with the 0/1 label.
///
/// This is Keras' `binary_accuracy` (a strict `>`); the usual threshold is 0.5 for probabilities
/// and 0.0 for logits. Equal to scikit-learn's `accuracy_score(y_true, scores > threshold)`.
///
/// ```
/// use ndarray::array;
/// let acc = neurite_metrics::binary_accuracy(&[1, 0, 1, 0], array![0.9, 0.5, 0.2, 0.1].view(), 0.5);
/// assert_eq!(acc.unwrap(), 0.75);
/// ```
///
/// # Errors
/// Length mismatch, no samples, a label other than 0 or 1, a non-finite score or threshold.
pub fn binary_accuracy<F: Score>(
    y_true: &[usize],
    scores: ArrayView1<'_, F>,
    threshold: f64,
) -> Result<f64> {
    const METRIC: &str = "binary_accuracy";
    if !threshold.is_finite() {
        return Err(MetricError::InvalidArgument {
            metric: METRIC,
            name: "threshold",
            value: threshold.to_string(),
            hint: "use a finite threshold, e.g. 0.5 for probabilities or 0.0 for logits".into(),
        });
    }
    same_length(METRIC, "scores", y_true.len(), scores.len())?;
    binary_labels(METRIC, y_true)?;
    let scores = finite_scores_1d(METRIC, scores)?;
    let hits = scores
        .iter()
        .zip(y_true)
        .filter(|&(&s, &t)| usize::from(s > threshold) == t)
        .count();
    Ok(hits as f64 / y_true.len() as f64)
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn argmax_takes_first_of_ties_and_skips_nan() {
        assert_eq!(argmax(array![1.0, 3.0, 3.0].view()), 1);
        assert_eq!(argmax(array![f64::NAN, 2.0, 1.0].view()), 1);
        assert_eq!(argmax(array![f32::NAN, f32::NAN].view()), 0);
    }

    #[test]
    fn top_k_ties_favour_higher_index() {
        let scores = array![[0.3f32, 0.3, 0.3]];
        assert_eq!(top_k_accuracy(&[2], scores.view(), 1).unwrap(), 1.0);
        assert_eq!(top_k_accuracy(&[0], scores.view(), 1).unwrap(), 0.0);
        assert_eq!(top_k_accuracy(&[1], scores.view(), 2).unwrap(), 1.0);
        assert_eq!(top_k_accuracy(&[0], scores.view(), 2).unwrap(), 0.0);
        assert_eq!(top_k_accuracy(&[0], scores.view(), 3).unwrap(), 1.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(accuracy(&[], &[]), Err(MetricError::Empty { .. })));
        assert!(matches!(
            accuracy(&[1], &[1, 2]),
            Err(MetricError::LengthMismatch { .. })
        ));
        let scores = array![[0.1, 0.9]];
        assert!(matches!(
            top_k_accuracy(&[2], scores.view(), 1),
            Err(MetricError::LabelOutOfRange { label: 2, .. })
        ));
        assert!(top_k_accuracy(&[0], scores.view(), 0).is_err());
        let nan = array![[0.1, f64::NAN]];
        assert!(matches!(
            accuracy_from_scores(&[0], nan.view()),
            Err(MetricError::NonFiniteScore { column: 1, .. })
        ));
        assert!(binary_accuracy(&[2], array![0.3].view(), 0.5).is_err());
    }
}
