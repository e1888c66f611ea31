//! Precision-recall curve and average precision (binary and one-vs-rest multi-class).

use ndarray::{ArrayView1, ArrayView2};

use crate::ranking::{OneVsRest, ThresholdCounts, binary_inputs};
use crate::{Average, Result, Score};

/// Precision and recall when predicting "positive" for scores `>= thresholds[i]`.
///
/// Laid out as scikit-learn returns it: thresholds increase, recall decreases, and a final point
/// `(recall 0, precision 1)` with no threshold ends the curve, so `precision` and `recall` have
/// one more entry than `thresholds`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecisionRecallCurve {
    /// Precision at each threshold, then 1.
    pub precision: Vec<f64>,
    /// Recall at each threshold (decreasing), then 0.
    pub recall: Vec<f64>,
    /// The distinct scores, increasing.
    pub thresholds: Vec<f64>,
}

impl PrecisionRecallCurve {
    /// Average precision: `sum_n (R_{n} - R_{n+1}) P_n`, the step-function area under the curve.
    pub fn average_precision(&self) -> f64 {
        let area: f64 = self
            .recall
            .windows(2)
            .zip(&self.precision)
            .map(|(r, p)| (r[1] - r[0]) * p)
            .sum();
        // Rounding can leave -0.0; scikit-learn clips at 0 the same way.
        (-area).max(0.0)
    }
}

/// The precision-recall curve of scores for 0/1 labels (the positive class is 1).
///
/// Same as scikit-learn's `precision_recall_curve(y_true, scores)` (no points dropped). As in
/// scikit-learn, if `y_true` has no positive sample the recall is set to 1 at every threshold
/// (scikit-learn warns), and a threshold where nothing is predicted positive has precision 0.
///
/// ```
/// use ndarray::array;
/// let pr = neurite_metrics::precision_recall_curve(&[0, 0, 1, 1], array![0.1, 0.4, 0.35, 0.8].view())
///     .unwrap();
/// assert_eq!(pr.thresholds, vec![0.1, 0.35, 0.4, 0.8]);
/// assert_eq!(pr.recall, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
/// assert_eq!(pr.precision, vec![0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
/// ```
///
/// # Errors
/// Length mismatch, no samples, labels other than 0/1, or non-finite scores.
pub fn precision_recall_curve<F: Score>(
    y_true: &[usize],
    scores: ArrayView1<'_, F>,
) -> Result<PrecisionRecallCurve> {
    let (positive, scores) = binary_inputs("precision_recall_curve", y_true, scores)?;
    Ok(pr_from_flags(&positive, &scores))
}

pub(crate) fn pr_from_flags(positive: &[bool], scores: &[f64]) -> PrecisionRecallCurve {
    let counts = ThresholdCounts::new(positive, scores);
    let positives = counts.positives();
    let n = counts.tps.len();
    let mut curve = PrecisionRecallCurve {
        precision: Vec::with_capacity(n + 1),
        recall: Vec::with_capacity(n + 1),
        thresholds: Vec::with_capacity(n),
    };
    // Counts run from the highest threshold down; the curve is returned lowest threshold first.
    for i in (0..n).rev() {
        let (tp, predicted) = (counts.tps[i], counts.tps[i] + counts.fps[i]);
        curve.precision.push(if predicted == 0.0 {
            0.0
        } else {
            tp / predicted
        });
        curve.recall.push(if positives == 0.0 {
            1.0
        } else {
            tp / positives
        });
        curve.thresholds.push(counts.thresholds[i]);
    }
    curve.precision.push(1.0);
    curve.recall.push(0.0);
    curve
}

/// Average precision of scores for 0/1 labels; scikit-learn's `average_precision_score`.
///
/// `AP = sum_n (R_n - R_{n-1}) P_n` over thresholds, without interpolation. With no positive
/// sample in `y_true` the result is 0 (scikit-learn agrees and warns).
///
/// ```
/// use ndarray::array;
/// let ap = neurite_metrics::average_precision_score(&[0, 0, 1, 1], array![0.1, 0.4, 0.35, 0.8].view());
/// assert!((ap.unwrap() - 0.8333333333333333).abs() < 1e-15);
/// ```
///
/// # Errors
/// As [`precision_recall_curve`].
pub fn average_precision_score<F: Score>(
    y_true: &[usize],
    scores: ArrayView1<'_, F>,
) -> Result<f64> {
    Ok(precision_recall_curve(y_true, scores)?.average_precision())
}

/// One-vs-rest average precision of multi-class scores, averaged over classes `0..classes`.
///
/// Same as scikit-learn's `average_precision_score(one_hot(y_true), scores, average=...)` where
/// `one_hot` has one column per score column. When every class occurs in `y_true` this equals
/// `average_precision_score(y_true, scores)` for multi-class `y_true`. A class absent from
/// `y_true` scores 0 and counts in [`Average::Macro`]; [`Average::Weighted`] ignores it.
///
/// # Shapes
/// `y_true`: `samples` labels; `scores`: `[samples, classes]` with `classes >= 2`.
///
/// # Errors
/// Length or shape mismatch, no samples, a label `>= classes`, or non-finite scores.
pub fn average_precision_ovr<F: Score>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
    average: Average,
) -> Result<f64> {
    OneVsRest::new("average_precision_ovr", y_true, scores)?.average(average, |positive, scores| {
        Ok(pr_from_flags(positive, scores).average_precision())
    })
}

/// One-vs-rest precision-recall curve of every class.
///
/// # Errors
/// As [`average_precision_ovr`].
pub fn precision_recall_curves_ovr<F: Score>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
) -> Result<Vec<PrecisionRecallCurve>> {
    let ovr = OneVsRest::new("precision_recall_curves_ovr", y_true, scores)?;
    Ok(ovr
        .columns
        .iter()
        .map(|(p, s)| pr_from_flags(p, s))
        .collect())
}
