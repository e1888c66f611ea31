//! ROC curve, area under a curve, and ROC AUC (binary and one-vs-rest multi-class).

use ndarray::{ArrayView1, ArrayView2};

use crate::ranking::{OneVsRest, ThresholdCounts, binary_inputs, one_class};
use crate::{Average, MetricError, Result, Score};

/// A receiver operating characteristic curve: false and true positive rates when predicting
/// "positive" for scores `>= thresholds[i]`.
///
/// As in scikit-learn (>= 1.3), `thresholds[0]` is `+inf` (nothing predicted positive, the
/// point (0, 0)) and thresholds decrease from there.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False positive rate at each threshold, increasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True positive rate at each threshold, increasing from 0 to 1.
    pub tpr: Vec<f64>,
    /// Decreasing score thresholds, starting at `+inf`.
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// Area under this curve (trapezoidal rule).
    pub fn auc(&self) -> f64 {
        trapezoid(&self.fpr, &self.tpr)
    }
}

/// The ROC curve of scores for 0/1 labels (the positive class is 1).
///
/// Same as scikit-learn's `roc_curve(y_true, scores)` with its default `drop_intermediate=True`:
/// points collinear with their neighbours (no corner in the curve) are dropped.
///
/// ```
/// use ndarray::array;
/// let roc = neurite_metrics::roc_curve(&[0, 0, 1, 1], array![0.1, 0.4, 0.35, 0.8].view()).unwrap();
/// assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
/// assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(roc.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// assert_eq!(roc.auc(), 0.75);
/// ```
///
/// # Errors
/// Length mismatch, no samples, labels other than 0/1, non-finite scores, and
/// [`MetricError::Undefined`] when `y_true` has only one class (scikit-learn returns NaN rates).
pub fn roc_curve<F: Score>(y_true: &[usize], scores: ArrayView1<'_, F>) -> Result<RocCurve> {
    let (positive, scores) = binary_inputs("roc_curve", y_true, scores)?;
    roc_from_flags("roc_curve", &positive, &scores)
}

pub(crate) fn roc_from_flags(
    metric: &'static str,
    positive: &[bool],
    scores: &[f64],
) -> Result<RocCurve> {
    let counts = ThresholdCounts::new(positive, scores);
    let (negatives, positives) = (counts.negatives(), counts.positives());
    if positives == 0.0 {
        return Err(one_class(metric, "positive"));
    }
    if negatives == 0.0 {
        return Err(one_class(metric, "negative"));
    }
    let keep = corner_points(&counts.fps, &counts.tps);
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    for i in keep {
        curve.fpr.push(counts.fps[i] / negatives);
        curve.tpr.push(counts.tps[i] / positives);
        curve.thresholds.push(counts.thresholds[i]);
    }
    Ok(curve)
}

/// Indices of the points to keep: the ends, and every point where the curve bends (the second
/// difference of either count is non-zero). With two points or fewer, all are kept.
fn corner_points(fps: &[f64], tps: &[f64]) -> Vec<usize> {
    let n = fps.len();
    if n <= 2 {
        return (0..n).collect();
    }
    let bends = |v: &[f64], i: usize| v[i + 1] - 2.0 * v[i] + v[i - 1] != 0.0;
    (0..n)
        .filter(|&i| i == 0 || i == n - 1 || bends(fps, i) || bends(tps, i))
        .collect()
}

/// Area under the piecewise-linear curve through `(x[i], y[i])` (trapezoidal rule), for `x`
/// increasing or decreasing; scikit-learn's `auc(x, y)`.
///
/// ```
/// assert_eq!(neurite_metrics::auc(&[0.0, 0.5, 1.0], &[0.0, 1.0, 1.0]).unwrap(), 0.75);
/// ```
///
/// # Errors
/// Fewer than two points, lengths that differ, non-finite values, or `x` not monotonic.
pub fn auc(x: &[f64], y: &[f64]) -> Result<f64> {
    const METRIC: &str = "auc";
    crate::validate::same_length(METRIC, "y", x.len(), y.len())?;
    if x.len() < 2 {
        return Err(MetricError::InvalidArgument {
            metric: METRIC,
            name: "x",
            value: format!("{} point(s)", x.len()),
            hint: "at least 2 points are needed to compute an area".into(),
        });
    }
    for (row, &value) in x.iter().chain(y).enumerate() {
        if !value.is_finite() {
            return Err(MetricError::NonFiniteScore {
                metric: METRIC,
                row: row % x.len(),
                column: 0,
                value,
            });
        }
    }
    let increasing = x.windows(2).all(|w| w[1] >= w[0]);
    let decreasing = x.windows(2).all(|w| w[1] <= w[0]);
    if !increasing && !decreasing {
        return Err(MetricError::InvalidArgument {
            metric: METRIC,
            name: "x",
            value: "a sequence that goes up and down".into(),
            hint: "x must be monotonic (sorted increasing or decreasing)".into(),
        });
    }
    let area = trapezoid(x, y);
    Ok(if increasing { area } else { -area })
}

/// Signed trapezoidal integral of `y` over `x`, summed in order as numpy's `trapezoid` does.
fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(xs, ys)| (xs[1] - xs[0]) * (ys[1] + ys[0]) / 2.0)
        .sum()
}

/// Area under the ROC curve of scores for 0/1 labels (the positive class is 1).
///
/// Same as scikit-learn's `roc_auc_score(y_true, scores)`.
///
/// # Errors
/// As [`roc_curve`]; [`MetricError::Undefined`] when `y_true` has only one class.
pub fn roc_auc_score<F: Score>(y_true: &[usize], scores: ArrayView1<'_, F>) -> Result<f64> {
    let (positive, scores) = binary_inputs("roc_auc_score", y_true, scores)?;
    Ok(roc_from_flags("roc_auc_score", &positive, &scores)?.auc())
}

/// One-vs-rest ROC AUC of multi-class scores, averaged over classes.
///
/// Same as scikit-learn's `roc_auc_score(y_true, scores, multi_class="ovr", average=...,
/// labels=range(classes))` for three or more classes. Unlike scikit-learn, rows need not sum to
/// 1: only the order of scores within each class column matters, so logits work too.
///
/// [`Average::Macro`] needs every class to occur in `y_true` and at least two classes to occur
/// (else [`MetricError::Undefined`], where scikit-learn returns NaN). [`Average::Weighted`]
/// weighs each class by its support, so a class absent from `y_true` is ignored.
/// [`Average::Micro`] pools all (sample, class) pairs into one binary problem.
///
/// # Shapes
/// `y_true`: `samples` labels; `scores`: `[samples, classes]` with `classes >= 2`.
///
/// ```
/// use ndarray::array;
/// use neurite_metrics::{roc_auc_ovr, Average};
/// let scores = array![[0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]];
/// let auc = roc_auc_ovr(&[0, 1, 2, 2], scores.view(), Average::Macro).unwrap();
/// assert!((auc - (2.0 / 3.0 + 1.0 + 1.0) / 3.0).abs() < 1e-15);
/// ```
///
/// # Errors
/// Length or shape mismatch, no samples, a label `>= classes`, non-finite scores, or an
/// undefined per-class AUC as above.
pub fn roc_auc_ovr<F: Score>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
    average: Average,
) -> Result<f64> {
    const METRIC: &str = "roc_auc_ovr";
    OneVsRest::new(METRIC, y_true, scores)?.average(average, |positive, scores| {
        Ok(roc_from_flags(METRIC, positive, scores)?.auc())
    })
}

/// One-vs-rest ROC curve of every class, `Err` for a class whose curve is undefined (absent from
/// `y_true`, or the only class present).
///
/// # Errors
/// The outer `Result` fails on invalid input as [`roc_auc_ovr`] does.
pub fn roc_curves_ovr<F: Score>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
) -> Result<Vec<Result<RocCurve>>> {
    const METRIC: &str = "roc_curves_ovr";
    let ovr = OneVsRest::new(METRIC, y_true, scores)?;
    Ok(ovr
        .columns
        .iter()
        .map(|(p, s)| roc_from_flags(METRIC, p, s))
        .collect())
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn one_class_is_undefined() {
        let err = roc_auc_score(&[1, 1], array![0.2f32, 0.4].view()).unwrap_err();
        assert!(matches!(err, MetricError::Undefined { .. }), "{err}");
    }

    #[test]
    fn all_equal_scores_give_the_diagonal() {
        let roc = roc_curve(&[0, 1, 0, 1, 1], array![0.5, 0.5, 0.5, 0.5, 0.5].view()).unwrap();
        assert_eq!(roc.fpr, vec![0.0, 1.0]);
        assert_eq!(roc.tpr, vec![0.0, 1.0]);
        assert_eq!(roc.auc(), 0.5);
    }

    #[test]
    fn auc_checks_monotonic_x() {
        assert_eq!(auc(&[1.0, 0.0], &[1.0, 1.0]).unwrap(), 1.0);
        assert!(auc(&[0.0, 1.0, 0.5], &[1.0, 1.0, 1.0]).is_err());
        assert!(auc(&[0.0], &[1.0]).is_err());
    }

    #[test]
    fn weighted_ovr_ignores_absent_class_but_macro_fails() {
        let scores = array![[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]];
        assert!(roc_auc_ovr(&[0, 1, 0], scores.view(), Average::Macro).is_err());
        let w = roc_auc_ovr(&[0, 1, 0], scores.view(), Average::Weighted).unwrap();
        assert_eq!(w, 1.0);
    }
}
