//! The counting step shared by ROC and precision-recall curves: sort by score and count true and
//! false positives at every distinct score used as a threshold.

use ndarray::{ArrayView1, ArrayView2};

use crate::validate::{
    binary_labels, finite_scores_1d, finite_scores_2d, labels_in_range, same_length, score_matrix,
};
use crate::{Average, MetricError, Result, Score};

/// Cumulative counts when predicting "positive" for every score `>= threshold`.
///
/// Thresholds are the distinct scores in decreasing order; `tps[i]` and `fps[i]` count the
/// positives and negatives scoring at least `thresholds[i]`.
#[derive(Debug, Clone)]
pub(crate) struct ThresholdCounts {
    pub(crate) fps: Vec<f64>,
    pub(crate) tps: Vec<f64>,
    pub(crate) thresholds: Vec<f64>,
}

impl ThresholdCounts {
    /// Counts for finite `scores` with `positive[i]` telling whether sample `i` is positive.
    pub(crate) fn new(positive: &[bool], scores: &[f64]) -> Self {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        // Scores are finite here, so `total_cmp` agrees with `<` except that it orders -0.0
        // before 0.0; ties are merged below with `!=`, which treats them as equal.
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        let (mut fps, mut tps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
        let mut true_so_far = 0.0;
        for (rank, &i) in order.iter().enumerate() {
            if positive[i] {
                true_so_far += 1.0;
            }
            let last_of_tie = order
                .get(rank + 1)
                .is_none_or(|&next| scores[next] != scores[i]);
            if last_of_tie {
                tps.push(true_so_far);
                fps.push((rank + 1) as f64 - true_so_far);
                thresholds.push(scores[i]);
            }
        }
        Self {
            fps,
            tps,
            thresholds,
        }
    }

    /// Total positives (`tps` at the lowest threshold).
    pub(crate) fn positives(&self) -> f64 {
        self.tps.last().copied().unwrap_or(0.0)
    }

    /// Total negatives.
    pub(crate) fn negatives(&self) -> f64 {
        self.fps.last().copied().unwrap_or(0.0)
    }
}

/// Checks 0/1 labels against one score per sample and returns `(positive flags, f64 scores)`.
pub(crate) fn binary_inputs<F: Score>(
    metric: &'static str,
    y_true: &[usize],
    scores: ArrayView1<'_, F>,
) -> Result<(Vec<bool>, Vec<f64>)> {
    same_length(metric, "scores", y_true.len(), scores.len())?;
    binary_labels(metric, y_true)?;
    let scores = finite_scores_1d(metric, scores)?;
    Ok((y_true.iter().map(|&t| t == 1).collect(), scores))
}

/// One-vs-rest problems of a multi-class input: for each class, the positive flags and the
/// class's score column.
pub(crate) struct OneVsRest {
    pub(crate) columns: Vec<(Vec<bool>, Vec<f64>)>,
}

impl OneVsRest {
    pub(crate) fn new<F: Score>(
        metric: &'static str,
        y_true: &[usize],
        scores: ArrayView2<'_, F>,
    ) -> Result<Self> {
        same_length(metric, "y_true", scores.nrows(), y_true.len())?;
        let n_classes = score_matrix(metric, y_true.len(), scores, 2)?;
        labels_in_range(metric, "y_true", y_true, n_classes)?;
        finite_scores_2d(metric, scores)?;
        let columns = (0..n_classes)
            .map(|c| {
                let positive = y_true.iter().map(|&t| t == c).collect();
                let column = scores.column(c).iter().map(|&s| s.into()).collect();
                (positive, column)
            })
            .collect();
        Ok(Self { columns })
    }

    /// All columns stacked into one binary problem (scikit-learn's `average="micro"`).
    pub(crate) fn raveled(&self) -> (Vec<bool>, Vec<f64>) {
        let mut positive = Vec::new();
        let mut scores = Vec::new();
        for (p, s) in &self.columns {
            positive.extend_from_slice(p);
            scores.extend_from_slice(s);
        }
        (positive, scores)
    }

    /// Positives of each class.
    pub(crate) fn supports(&self) -> Vec<f64> {
        self.columns
            .iter()
            .map(|(p, _)| p.iter().filter(|&&x| x).count() as f64)
            .collect()
    }

    /// Averages a per-class binary score the way scikit-learn's `_average_binary_score` does.
    ///
    /// `binary` may fail for a class (undefined score); with [`Average::Weighted`] a class with
    /// no positives has weight 0 and its failure is ignored, as scikit-learn zeroes its score.
    pub(crate) fn average(
        &self,
        average: Average,
        binary: impl Fn(&[bool], &[f64]) -> Result<f64>,
    ) -> Result<f64> {
        match average {
            Average::Micro => {
                let (positive, scores) = self.raveled();
                binary(&positive, &scores)
            }
            Average::Macro => {
                let mut total = 0.0;
                for (positive, scores) in &self.columns {
                    total += binary(positive, scores)?;
                }
                Ok(total / self.columns.len() as f64)
            }
            Average::Weighted => {
                let weights = self.supports();
                let weight_sum: f64 = weights.iter().sum();
                if weight_sum == 0.0 {
                    return Ok(0.0);
                }
                let mut total = 0.0;
                for ((positive, scores), &w) in self.columns.iter().zip(&weights) {
                    if w > 0.0 {
                        total += binary(positive, scores)? * w;
                    }
                }
                Ok(total / weight_sum)
            }
        }
    }
}

/// Error for a one-class binary problem.
pub(crate) fn one_class(metric: &'static str, missing: &str) -> MetricError {
    MetricError::Undefined {
        metric,
        reason: format!(
            "y_true has no {missing} samples, so the rate is 0/0 \
             (scikit-learn returns NaN); evaluate on data with both classes"
        ),
    }
}
