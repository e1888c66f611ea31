//! Streaming accuracies: categorical (labels or one-hot), sparse categorical, top-k and binary.

use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2};

use super::{MetricConfig, StreamingMetric, Targets};
use crate::accuracy::{argmax, in_top_k};
use crate::{MetricError, Result, Score};

/// Correct and total counts shared by every accuracy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    correct: u64,
    total: u64,
}

impl Tally {
    fn ratio(&self) -> f64 {
        if self.total == 0 {
            f64::NAN
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    fn add(&mut self, hits: impl Iterator<Item = bool>) {
        for hit in hits {
            self.correct += u64::from(hit);
            self.total += 1;
        }
    }
}

fn shape_error(
    metric: &'static str,
    expected: String,
    got: &[usize],
    hint: &'static str,
) -> MetricError {
    MetricError::Shape {
        metric,
        expected,
        got: got.to_vec(),
        hint,
    }
}

/// Checks one label per prediction row, each below `n_classes`.
fn check_labels(
    metric: &'static str,
    rows: usize,
    labels: &[usize],
    n_classes: usize,
) -> Result<()> {
    if labels.len() != rows {
        return Err(MetricError::LengthMismatch {
            metric,
            what: "labels",
            expected: rows,
            got: labels.len(),
        });
    }
    crate::validate::labels_in_range(metric, "labels", labels, n_classes)
}

/// Class of each row of one-hot targets shaped like the predictions.
fn one_hot_classes<F: Score>(
    metric: &'static str,
    predictions: ArrayView2<'_, F>,
    targets: ArrayView2<'_, F>,
) -> Result<Vec<usize>> {
    if targets.dim() != predictions.dim() {
        return Err(shape_error(
            metric,
            format!(
                "one-hot targets of shape {:?} like the predictions",
                predictions.shape()
            ),
            targets.shape(),
            "pass one one-hot row per prediction row, or Targets::Labels",
        ));
    }
    Ok(targets.rows().into_iter().map(argmax).collect())
}

/// Categorical accuracy: the arg-max of each prediction row against the true class.
///
/// Targets are class labels or one-hot rows. Ties in the predictions go to the lowest class
/// index; NaN never wins. With a single output column the model is a binary classifier and this
/// is binary accuracy at threshold 0.5, as Keras resolves `"accuracy"`.
#[derive(Debug, Clone)]
pub struct Accuracy<F> {
    tally: Tally,
    score: PhantomData<fn() -> F>,
}

impl<F: Score> Accuracy<F> {
    /// An empty accuracy.
    pub fn new() -> Self {
        Self {
            tally: Tally::default(),
            score: PhantomData,
        }
    }
}

impl<F: Score> Default for Accuracy<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Score> StreamingMetric<F> for Accuracy<F> {
    fn name(&self) -> &str {
        "accuracy"
    }

    fn config(&self) -> MetricConfig {
        MetricConfig::Accuracy
    }

    fn update(&mut self, predictions: ArrayView2<'_, F>, targets: Targets<'_, F>) -> Result<()> {
        const METRIC: &str = "accuracy";
        if predictions.ncols() == 1 {
            let mut binary = BinaryAccuracy {
                threshold: 0.5,
                tally: self.tally,
                score: PhantomData,
            };
            binary.update(predictions, targets)?;
            self.tally = binary.tally;
            return Ok(());
        }
        let truth = match targets {
            Targets::Labels(labels) => {
                check_labels(METRIC, predictions.nrows(), labels, predictions.ncols())?;
                labels.to_vec()
            }
            Targets::Dense(dense) => one_hot_classes(METRIC, predictions, dense)?,
        };
        self.tally.add(
            predictions
                .rows()
                .into_iter()
                .zip(truth)
                .map(|(row, t)| argmax(row) == t),
        );
        Ok(())
    }

    fn result(&self) -> f64 {
        self.tally.ratio()
    }

    fn reset(&mut self) {
        self.tally = Tally::default();
    }
}

/// Sparse categorical accuracy: arg-max of predictions against integer class targets.
///
/// Targets are [`Targets::Labels`], or Keras' layout: a `[batch, 1]` dense column holding class
/// indices as numbers (0.0, 1.0, ...).
#[derive(Debug, Clone)]
pub struct SparseCategoricalAccuracy<F> {
    tally: Tally,
    score: PhantomData<fn() -> F>,
}

impl<F: Score> SparseCategoricalAccuracy<F> {
    /// An empty accuracy.
    pub fn new() -> Self {
        Self {
            tally: Tally::default(),
            score: PhantomData,
        }
    }
}

impl<F: Score> Default for SparseCategoricalAccuracy<F> {
    fn default() -> Self {
        Self::new()
    }
}

/// Class indices stored as numbers in a `[rows, 1]` column.
fn indices_from_column<F: Score>(
    metric: &'static str,
    column: ArrayView2<'_, F>,
    rows: usize,
    n_classes: usize,
) -> Result<Vec<usize>> {
    if column.dim() != (rows, 1) {
        return Err(shape_error(
            metric,
            format!("class indices of shape [{rows}, 1]"),
            column.shape(),
            "pass one class index per prediction row",
        ));
    }
    column
        .iter()
        .enumerate()
        .map(|(index, &v)| {
            let value: f64 = v.into();
            if value >= 0.0 && value < n_classes as f64 && value.fract() == 0.0 {
                Ok(value as usize)
            } else {
                Err(MetricError::InvalidArgument {
                    metric,
                    name: "targets",
                    value: format!("{value} at row {index}"),
                    hint: format!("class indices must be whole numbers in 0..{n_classes}"),
                })
            }
        })
        .collect()
}

impl<F: Score> StreamingMetric<F> for SparseCategoricalAccuracy<F> {
    fn name(&self) -> &str {
        "sparse_categorical_accuracy"
    }

    fn config(&self) -> MetricConfig {
        MetricConfig::SparseCategoricalAccuracy
    }

    fn update(&mut self, predictions: ArrayView2<'_, F>, targets: Targets<'_, F>) -> Result<()> {
        const METRIC: &str = "sparse_categorical_accuracy";
        let (rows, n_classes) = predictions.dim();
        let truth = match targets {
            Targets::Labels(labels) => {
                check_labels(METRIC, rows, labels, n_classes)?;
                labels.to_vec()
            }
            Targets::Dense(column) => indices_from_column(METRIC, column, rows, n_classes)?,
        };
        self.tally.add(
            predictions
                .rows()
                .into_iter()
                .zip(truth)
                .map(|(row, t)| argmax(row) == t),
        );
        Ok(())
    }

    fn result(&self) -> f64 {
        self.tally.ratio()
    }

    fn reset(&mut self) {
        self.tally = Tally::default();
    }
}

/// Top-k accuracy: the true class is among the `k` highest predictions.
///
/// Ties are ranked as scikit-learn's `top_k_accuracy_score` ranks them (higher class index
/// first). Targets are labels or one-hot rows.
#[derive(Debug, Clone)]
pub struct TopKAccuracy<F> {
    k: usize,
    name: String,
    tally: Tally,
    score: PhantomData<fn() -> F>,
}

impl<F: Score> TopKAccuracy<F> {
    /// Top-`k` accuracy, named `"top_{k}_accuracy"`.
    ///
    /// # Errors
    /// `k == 0`.
    pub fn new(k: usize) -> Result<Self> {
        if k == 0 {
            return Err(MetricError::InvalidArgument {
                metric: "top_k_accuracy",
                name: "k",
                value: "0".into(),
                hint: "k must be at least 1".into(),
            });
        }
        Ok(Self {
            k,
            name: format!("top_{k}_accuracy"),
            tally: Tally::default(),
            score: PhantomData,
        })
    }
}

impl<F: Score> StreamingMetric<F> for TopKAccuracy<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn config(&self) -> MetricConfig {
        MetricConfig::TopKAccuracy { k: self.k }
    }

    fn update(&mut self, predictions: ArrayView2<'_, F>, targets: Targets<'_, F>) -> Result<()> {
        const METRIC: &str = "top_k_accuracy";
        let truth = match targets {
            Targets::Labels(labels) => {
                check_labels(METRIC, predictions.nrows(), labels, predictions.ncols())?;
                labels.to_vec()
            }
            Targets::Dense(dense) => one_hot_classes(METRIC, predictions, dense)?,
        };
        let k = self.k;
        self.tally.add(
            predictions
                .rows()
                .into_iter()
                .zip(truth)
                .map(|(row, t)| in_top_k(row, t, k)),
        );
        Ok(())
    }

    fn result(&self) -> f64 {
        self.tally.ratio()
    }

    fn reset(&mut self) {
        self.tally = Tally::default();
    }
}

/// Binary accuracy: each output `> threshold` against a 0/1 target, averaged over all outputs.
///
/// Targets are dense and shaped like the predictions (a target above 0.5 is positive, so
/// smoothed labels such as 0.9 count as 1), or labels 0/1 when there is one output column.
#[derive(Debug, Clone)]
pub struct BinaryAccuracy<F> {
    threshold: f64,
    tally: Tally,
    score: PhantomData<fn() -> F>,
}

impl<F: Score> Default for BinaryAccuracy<F> {
    fn default() -> Self {
        Self::new(0.5)
    }
}

impl<F: Score> BinaryAccuracy<F> {
    /// Binary accuracy at `threshold` (0.5 for probabilities, 0.0 for logits). A NaN threshold
    /// makes every output negative.
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold,
            tally: Tally::default(),
            score: PhantomData,
        }
    }
}

fn positive<F: Score>(value: F, threshold: f64) -> bool {
    let value: f64 = value.into();
    value > threshold
}

impl<F: Score> StreamingMetric<F> for BinaryAccuracy<F> {
    fn name(&self) -> &str {
        "binary_accuracy"
    }

    fn config(&self) -> MetricConfig {
        MetricConfig::BinaryAccuracy {
            threshold: self.threshold,
        }
    }

    fn update(&mut self, predictions: ArrayView2<'_, F>, targets: Targets<'_, F>) -> Result<()> {
        const METRIC: &str = "binary_accuracy";
        let threshold = self.threshold;
        match targets {
            Targets::Labels(labels) => {
                if predictions.ncols() != 1 {
                    return Err(shape_error(
                        METRIC,
                        "predictions of shape [batch, 1] for label targets".into(),
                        predictions.shape(),
                        "pass dense 0/1 targets shaped like multi-output predictions",
                    ));
                }
                check_labels(METRIC, predictions.nrows(), labels, 2)?;
                let column: ArrayView1<'_, F> = predictions.column(0);
                self.tally.add(
                    column
                        .iter()
                        .zip(labels)
                        .map(|(&p, &t)| positive(p, threshold) == (t == 1)),
                );
            }
            Targets::Dense(dense) => {
                if dense.dim() != predictions.dim() {
                    return Err(shape_error(
                        METRIC,
                        format!(
                            "targets of shape {:?} like the predictions",
                            predictions.shape()
                        ),
                        dense.shape(),
                        "pass one 0/1 target per prediction",
                    ));
                }
                self.tally.add(
                    predictions
                        .iter()
                        .zip(dense.iter())
                        .map(|(&p, &t)| positive(p, threshold) == positive(t, 0.5)),
                );
            }
        }
        Ok(())
    }

    fn result(&self) -> f64 {
        self.tally.ratio()
    }

    fn reset(&mut self) {
        self.tally = Tally::default();
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn accuracy_with_labels_and_one_hot_agree() {
        let predictions = array![
            [0.1f64, 0.7, 0.2],
            [0.5, 0.3, 0.2],
            [0.2, 0.2, 0.6],
            [0.4, 0.4, 0.2]
        ];
        let labels = [1, 2, 2, 1];
        let one_hot = array![[0., 1., 0.], [0., 0., 1.], [0., 0., 1.], [0., 1., 0.]];
        let mut a = Accuracy::new();
        a.update(predictions.view(), Targets::Labels(&labels))
            .unwrap();
        let mut b = Accuracy::new();
        b.update(predictions.view(), Targets::Dense(one_hot.view()))
            .unwrap();
        // Row 4 ties classes 0 and 1: arg-max picks 0, so it is wrong.
        assert_eq!(a.result(), 0.5);
        assert_eq!(b.result(), 0.5);
        let mut sparse = SparseCategoricalAccuracy::new();
        let column = array![[1.0], [2.0], [2.0], [1.0]];
        sparse
            .update(predictions.view(), Targets::Dense(column.view()))
            .unwrap();
        assert_eq!(sparse.result(), 0.5);
        let mut top2 = TopKAccuracy::new(2).unwrap();
        top2.update(predictions.view(), Targets::Labels(&labels))
            .unwrap();
        assert_eq!(top2.result(), 0.75);
    }

    #[test]
    fn errors_leave_the_metric_unchanged() {
        let mut a = Accuracy::new();
        let p = array![[0.9f32, 0.1]];
        a.update(p.view(), Targets::Labels(&[0])).unwrap();
        assert!(a.update(p.view(), Targets::Labels(&[0, 1])).is_err());
        assert!(a.update(p.view(), Targets::Labels(&[2])).is_err());
        let wrong = array![[1.0f32, 0.0, 0.0]];
        assert!(a.update(p.view(), Targets::Dense(wrong.view())).is_err());
        assert_eq!(a.result(), 1.0);
        let mut sparse = SparseCategoricalAccuracy::new();
        let bad = array![[1.5f32]];
        assert!(sparse.update(p.view(), Targets::Dense(bad.view())).is_err());
        assert!(sparse.result().is_nan());
    }

    #[test]
    fn binary_accuracy_counts_every_output() {
        let mut b = BinaryAccuracy::new(0.5);
        let p = array![[0.9f32, 0.4], [0.6, 0.5]];
        let t = array![[1.0f32, 0.0], [0.0, 1.0]];
        b.update(p.view(), Targets::Dense(t.view())).unwrap();
        assert_eq!(b.result(), 0.5);
        let mut single = Accuracy::new();
        let p1 = array![[0.7f32], [0.2], [0.5]];
        single
            .update(p1.view(), Targets::Labels(&[1, 0, 1]))
            .unwrap();
        assert!((single.result() - 2.0 / 3.0).abs() < 1e-15);
    }
}
