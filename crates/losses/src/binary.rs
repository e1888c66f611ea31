//! Binary cross-entropy, from probabilities (clipped like Keras) or from logits, with the fused
//! sigmoid gradient.

use ndarray::ArrayViewD;
use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::loss::{Input, check_same_shape, impl_cross_entropy, mean_elementwise};
use crate::{LossError, Result};

/// Keras' clipping epsilon for probabilities.
pub const EPSILON: f64 = 1e-7;

/// Clips a probability to `[EPSILON, 1 - EPSILON]` as Keras does, but lets NaN through:
/// `max`/`min` would turn a NaN prediction into a finite loss while the gradient stayed NaN,
/// hiding a diverged model from the training loop's NaN check.
pub(crate) fn clip_probability<F: neurite_tensor::Float>(p: F) -> F {
    if p.is_nan() {
        p
    } else {
        let eps = F::from_f64(EPSILON);
        p.max(eps).min(F::one() - eps)
    }
}

/// Binary cross-entropy `-(t ln p + (1 - t) ln(1 - p))`, averaged over every element.
///
/// Targets are probabilities in `[0, 1]` (usually 0 or 1). Without `from_logits`, predictions
/// are clipped to `[1e-7, 1 - 1e-7]` (the gradient is 0 where clipping bites), and a model
/// ending in a sigmoid gets the fused gradient `(p - t) / count` w.r.t. its logits. With
/// `from_logits`, predictions are logits `z` and the loss is computed stably as
/// `max(z, 0) - z t + ln(1 + exp(-|z|))`.
///
/// ```
/// use neurite_losses::{BinaryCrossentropy, Loss};
/// let p = ndarray::arr1(&[0.5f64]).into_dyn();
/// let t = ndarray::arr1(&[1.0f64]).into_dyn();
/// let l = BinaryCrossentropy::default().loss(p.view(), t.view()).unwrap();
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BinaryCrossentropy {
    /// Predictions are logits rather than probabilities.
    pub from_logits: bool,
}

const NAME: &str = "binary_crossentropy";

fn run<F: Float>(
    y_pred: ArrayViewD<'_, F>,
    y_true: ArrayViewD<'_, F>,
    input: Input,
    grad: Option<&mut Tensor<F>>,
) -> Result<F> {
    check_same_shape(NAME, &y_pred, &y_true)?;
    if let Some((index, v)) = y_true
        .indexed_iter()
        .find(|(_, v)| !(**v >= F::zero() && **v <= F::one()))
    {
        return Err(LossError::Target {
            loss: NAME,
            row: ndarray::Dimension::slice(&index)
                .first()
                .copied()
                .unwrap_or(0),
            value: v.to_string(),
            reason: String::from("binary targets must be probabilities in [0, 1]"),
        });
    }
    let (eps, one) = (F::from_f64(EPSILON), F::one());
    // (loss, d loss / d input) for one element.
    let element = |p: F, t: F| -> (F, F) {
        match input {
            Input::Logits => {
                let loss = p.max(F::zero()) - p * t + (-p.abs()).exp().ln_1p();
                let sigmoid = if p >= F::zero() {
                    one / (one + (-p).exp())
                } else {
                    p.exp() / (one + p.exp())
                };
                (loss, sigmoid - t)
            }
            Input::Probs | Input::FusedProbs => {
                let q = clip_probability(p);
                let loss = -(t * q.ln() + (one - t) * (one - q).ln());
                let d = if input == Input::FusedProbs {
                    p - t
                } else if p > eps && p < one - eps {
                    -t / p + (one - t) / (one - p)
                } else {
                    F::zero()
                };
                (loss, d)
            }
        }
    };
    Ok(mean_elementwise(y_pred, y_true, grad, element))
}

impl_cross_entropy!(
    BinaryCrossentropy,
    NAME,
    Sigmoid,
    |y_pred, y_true, input, grad| run(y_pred, y_true, input, grad)
);
