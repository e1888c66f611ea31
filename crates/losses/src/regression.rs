//! Regression losses: mean squared error, mean absolute error, Huber. All average over every
//! element (Keras averages the last axis, then the batch: the same number for equal-size rows).

use ndarray::ArrayViewD;
use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::loss::{check_finite_targets, check_same_shape, mean_elementwise};
use crate::{Loss, LossConfig, LossError, Result};

/// Applies `f(error) -> (loss, d loss / d error)` elementwise and averages.
fn elementwise<F: Float>(
    name: &'static str,
    y_pred: ArrayViewD<'_, F>,
    y_true: ArrayViewD<'_, F>,
    grad: Option<&mut Tensor<F>>,
    f: impl Fn(F) -> (F, F),
) -> Result<F> {
    check_same_shape(name, &y_pred, &y_true)?;
    check_finite_targets(name, &y_true)?;
    Ok(mean_elementwise(y_pred, y_true, grad, |p, t| f(p - t)))
}

/// Mean squared error, `mean((p - t)^2)`.
///
/// ```
/// use neurite_losses::{Loss, MeanSquaredError};
/// let p = ndarray::arr2(&[[1.0f64, 2.0]]).into_dyn();
/// let t = ndarray::arr2(&[[0.0f64, 4.0]]).into_dyn();
/// assert_eq!(MeanSquaredError.loss(p.view(), t.view()).unwrap(), 2.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanSquaredError;

impl<F: Float> Loss<F> for MeanSquaredError {
    fn name(&self) -> &'static str {
        "mean_squared_error"
    }

    fn config(&self) -> LossConfig {
        LossConfig::MeanSquaredError
    }

    fn loss(&self, y_pred: ArrayViewD<'_, F>, y_true: ArrayViewD<'_, F>) -> Result<F> {
        elementwise(Loss::<F>::name(self), y_pred, y_true, None, |e| {
            (e * e, e + e)
        })
    }

    fn gradient(
        &self,
        y_pred: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        grad: &mut Tensor<F>,
    ) -> Result<F> {
        elementwise(Loss::<F>::name(self), y_pred, y_true, Some(grad), |e| {
            (e * e, e + e)
        })
    }
}

/// Mean absolute error, `mean(|p - t|)` (gradient 0 where `p == t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanAbsoluteError;

fn abs_and_sign<F: Float>(e: F) -> (F, F) {
    let sign = if e > F::zero() {
        F::one()
    } else if e < F::zero() {
        -F::one()
    } else {
        F::zero()
    };
    (e.abs(), sign)
}

impl<F: Float> Loss<F> for MeanAbsoluteError {
    fn name(&self) -> &'static str {
        "mean_absolute_error"
    }

    fn config(&self) -> LossConfig {
        LossConfig::MeanAbsoluteError
    }

    fn loss(&self, y_pred: ArrayViewD<'_, F>, y_true: ArrayViewD<'_, F>) -> Result<F> {
        elementwise(Loss::<F>::name(self), y_pred, y_true, None, abs_and_sign)
    }

    fn gradient(
        &self,
        y_pred: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        grad: &mut Tensor<F>,
    ) -> Result<F> {
        elementwise(
            Loss::<F>::name(self),
            y_pred,
            y_true,
            Some(grad),
            abs_and_sign,
        )
    }
}

/// Huber loss: `e^2 / 2` for `|e| <= delta`, `delta * (|e| - delta / 2)` beyond (Keras'
/// default `delta = 1`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Huber {
    /// Where the quadratic part turns linear (must be positive).
    pub delta: f64,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

impl Huber {
    /// Huber loss with threshold `delta`.
    pub fn new(delta: f64) -> Self {
        Huber { delta }
    }

    fn run<F: Float>(
        &self,
        y_pred: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        grad: Option<&mut Tensor<F>>,
    ) -> Result<F> {
        if !(self.delta > 0.0 && self.delta.is_finite()) {
            return Err(LossError::Config {
                loss: "huber",
                name: "delta",
                value: self.delta.to_string(),
                reason: String::from("must be a positive number"),
            });
        }
        let delta = F::from_f64(self.delta);
        let half = F::from_f64(0.5);
        elementwise("huber", y_pred, y_true, grad, |e| {
            if e.abs() <= delta {
                (half * e * e, e)
            } else {
                (delta * (e.abs() - half * delta), delta * e.signum())
            }
        })
    }
}

impl<F: Float> Loss<F> for Huber {
    fn name(&self) -> &'static str {
        "huber"
    }

    fn config(&self) -> LossConfig {
        LossConfig::Huber(*self)
    }

    fn loss(&self, y_pred: ArrayViewD<'_, F>, y_true: ArrayViewD<'_, F>) -> Result<F> {
        self.run(y_pred, y_true, None)
    }

    fn gradient(
        &self,
        y_pred: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        grad: &mut Tensor<F>,
    ) -> Result<F> {
        self.run(y_pred, y_true, Some(grad))
    }
}
