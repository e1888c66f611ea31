//! Categorical cross-entropy with one-hot (or probability) targets and with integer labels,
//! from probabilities (clipped like Keras) or from logits, with the fused softmax gradient.
//!
//! Per row: `-sum_c t_c ln p_c`, averaged over the rows. From logits it is computed stably as
//! `sum_c t_c * (lse - z_c)` with `lse = m + ln sum_c exp(z_c - m)`, `m = max z`, and its
//! gradient is `(softmax(z) * sum(t) - t) / N`; the fused softmax gradient is the same
//! expression from the probabilities, `(p * sum(t) - t) / N` (`(p - y) / N` for one-hot rows).

use ndarray::{ArrayView1, ArrayView2, ArrayViewD, Axis, Ix2};
use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::binary::{EPSILON, clip_probability};
use crate::loss::{Input, check_finite_targets, ensure_shape, impl_cross_entropy};
use crate::{LossError, Result};

/// The targets of one batch: probability rows, or one integer label per row.
enum Targets<'a, F> {
    Rows(ArrayView2<'a, F>),
    Labels(ArrayView1<'a, F>),
}

impl<F: Float> Targets<'_, F> {
    fn get(&self, row: usize, class: usize) -> F {
        match self {
            Targets::Rows(t) => t[(row, class)],
            // Labels were validated as integers in range, so the cast is exact.
            Targets::Labels(l) => {
                if l[row].as_f64() as usize == class {
                    F::one()
                } else {
                    F::zero()
                }
            }
        }
    }

    fn row_sum(&self, row: usize) -> F {
        match self {
            Targets::Rows(t) => t.row(row).sum(),
            Targets::Labels(_) => F::one(),
        }
    }
}

fn as_rows<'a, F: Float>(
    loss: &'static str,
    y_pred: ArrayViewD<'a, F>,
    target_shape: &[usize],
    hint: &'static str,
) -> Result<ArrayView2<'a, F>> {
    let shape = y_pred.shape().to_vec();
    y_pred
        .into_dimensionality::<Ix2>()
        .ok()
        .filter(|p| p.nrows() > 0 && p.ncols() > 0)
        .ok_or_else(|| LossError::Shape {
            loss,
            expected: "predictions [N, classes]",
            pred: shape,
            target: target_shape.to_vec(),
            hint,
        })
}

fn run<F: Float>(
    pred: ArrayView2<'_, F>,
    targets: &Targets<'_, F>,
    input: Input,
    grad: Option<&mut Tensor<F>>,
) -> F {
    let (n, classes) = pred.dim();
    let count = F::from_usize(n);
    let (eps, one) = (F::from_f64(EPSILON), F::one());
    let mut total = F::zero();
    let mut grad = grad;
    if let Some(g) = grad.as_deref_mut() {
        ensure_shape(g, &[n, classes]);
    }
    for (i, row) in pred.axis_iter(Axis(0)).enumerate() {
        let t_sum = targets.row_sum(i);
        let lse = if input == Input::Logits {
            let m = row.iter().fold(F::neg_infinity(), |m, &v| m.max(v));
            m + row.iter().map(|&v| (v - m).exp()).sum::<F>().ln()
        } else {
            F::zero()
        };
        for (c, &p) in row.iter().enumerate() {
            let t = targets.get(i, c);
            let (l, d) = match input {
                Input::Logits => (t * (lse - p), (p - lse).exp() * t_sum - t),
                Input::Probs => {
                    let l = if t == F::zero() {
                        F::zero()
                    } else {
                        -t * clip_probability(p).ln()
                    };
                    let d = if p > eps && p < one - eps {
                        -t / p
                    } else {
                        F::zero()
                    };
                    (l, d)
                }
                Input::FusedProbs => {
                    let l = if t == F::zero() {
                        F::zero()
                    } else {
                        -t * clip_probability(p).ln()
                    };
                    (l, p * t_sum - t)
                }
            };
            total += l;
            if let Some(g) = grad.as_deref_mut() {
                g[[i, c]] = d / count;
            }
        }
    }
    total / count
}

/// Categorical cross-entropy with one-hot (or probability) targets `[N, C]`.
///
/// ```
/// use neurite_losses::{CategoricalCrossentropy, Loss};
/// let p = ndarray::arr2(&[[0.25f64, 0.75]]).into_dyn();
/// let t = ndarray::arr2(&[[0.0f64, 1.0]]).into_dyn();
/// let l = CategoricalCrossentropy::default().loss(p.view(), t.view()).unwrap();
/// assert!((l + 0.75f64.ln()).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoricalCrossentropy {
    /// Predictions are logits rather than probabilities.
    pub from_logits: bool,
}

const CCE: &str = "categorical_crossentropy";

fn cce_inputs<'a, F: Float>(
    y_pred: ArrayViewD<'a, F>,
    y_true: ArrayViewD<'a, F>,
) -> Result<(ArrayView2<'a, F>, Targets<'a, F>)> {
    let hint =
        "one-hot targets [N, classes]; for integer labels use sparse_categorical_crossentropy";
    if y_pred.shape() != y_true.shape() {
        return Err(LossError::Shape {
            loss: CCE,
            expected: "predictions and one-hot targets of the same shape [N, classes]",
            pred: y_pred.shape().to_vec(),
            target: y_true.shape().to_vec(),
            hint,
        });
    }
    check_finite_targets(CCE, &y_true)?;
    let shape = y_true.shape().to_vec();
    let pred = as_rows(CCE, y_pred, &shape, hint)?;
    let t = y_true
        .into_dimensionality::<Ix2>()
        .expect("same shape as predictions");
    if let Some((row, v)) = t
        .indexed_iter()
        .find(|(_, v)| **v < F::zero())
        .map(|((r, _), v)| (r, *v))
    {
        return Err(LossError::Target {
            loss: CCE,
            row,
            value: v.to_string(),
            reason: String::from("targets must be non-negative (one-hot or probabilities)"),
        });
    }
    Ok((pred, Targets::Rows(t)))
}

// The two categorical losses are one computation (`run`) over two ways of reading targets.
impl_cross_entropy!(
    CategoricalCrossentropy,
    CCE,
    Softmax,
    |y_pred, y_true, input, grad| {
        let (pred, t) = cce_inputs(y_pred, y_true)?;
        Ok(run(pred, &t, input, grad))
    }
);

/// Categorical cross-entropy with integer labels `[N]` (or `[N, 1]`) stored as floats.
///
/// ```
/// use neurite_losses::{Loss, SparseCategoricalCrossentropy};
/// let p = ndarray::arr2(&[[0.25f64, 0.75]]).into_dyn();
/// let bad = ndarray::arr1(&[2.0f64]).into_dyn();
/// let err = SparseCategoricalCrossentropy::default().loss(p.view(), bad.view()).unwrap_err();
/// assert!(err.to_string().contains("row 0"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseCategoricalCrossentropy {
    /// Predictions are logits rather than probabilities.
    pub from_logits: bool,
}

const SPARSE: &str = "sparse_categorical_crossentropy";

fn sparse_inputs<'a, F: Float>(
    y_pred: ArrayViewD<'a, F>,
    y_true: ArrayViewD<'a, F>,
) -> Result<(ArrayView2<'a, F>, Targets<'a, F>)> {
    let hint = "one integer label per row, [N] or [N, 1]; for one-hot targets use categorical_crossentropy";
    let target_shape = y_true.shape().to_vec();
    let pred = as_rows(SPARSE, y_pred, &target_shape, hint)?;
    let n = pred.nrows();
    let labels = match target_shape.as_slice() {
        [m] if *m == n => y_true.into_shape_with_order(n).ok(),
        [m, 1] if *m == n => y_true.into_shape_with_order(n).ok(),
        _ => None,
    };
    let Some(labels) = labels else {
        return Err(LossError::Shape {
            loss: SPARSE,
            expected: "labels [N] or [N, 1] for predictions [N, classes]",
            pred: pred.shape().to_vec(),
            target: target_shape,
            hint,
        });
    };
    let classes = pred.ncols();
    for (row, &label) in labels.iter().enumerate() {
        let v = label.as_f64();
        let reason = if !v.is_finite() {
            Some(String::from("labels must be finite"))
        } else if v < 0.0 || v.fract() != 0.0 {
            Some(String::from("labels must be non-negative integers"))
        } else if v >= classes as f64 {
            Some(format!(
                "label >= {classes} classes (labels are 0..{})",
                classes - 1
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(LossError::Target {
                loss: SPARSE,
                row,
                value: label.to_string(),
                reason,
            });
        }
    }
    Ok((pred, Targets::Labels(labels)))
}

impl_cross_entropy!(
    SparseCategoricalCrossentropy,
    SPARSE,
    Softmax,
    |y_pred, y_true, input, grad| {
        let (pred, t) = sparse_inputs(y_pred, y_true)?;
        Ok(run(pred, &t, input, grad))
    }
);
