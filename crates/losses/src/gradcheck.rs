//! Finite-difference gradient checks of every loss, including the fused softmax / sigmoid
//! gradients; with the `testing` feature, also the random cases shared by the test suite and
//! `cargo xtask gradcheck` ([`loss_cases`]).

use ndarray::ArrayViewD;
use neurite_tensor::gradcheck::{GradCheck, STEP, five_point};
use neurite_tensor::{Tensor, softmax};

use crate::{Loss, Result};

// Test support, not part of the library proper: the case registry that the loss tests and
// `cargo xtask gradcheck` share.
#[cfg(feature = "testing")]
mod cases;
#[cfg(feature = "testing")]
pub use cases::{Case, loss_cases};

/// Which gradient of a loss is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// `Loss::gradient` against the derivative of `Loss::loss` w.r.t. the predictions.
    Direct,
    /// `Loss::gradient_wrt_logits(softmax(z))` against the derivative of `loss(softmax(z))`
    /// w.r.t. `z`.
    FusedSoftmax,
    /// The same through an elementwise sigmoid.
    FusedSigmoid,
}

fn activate(path: Path, z: ArrayViewD<'_, f64>) -> Tensor<f64> {
    match path {
        Path::Direct => z.to_owned(),
        Path::FusedSoftmax => softmax(z.view(), 1).unwrap_or_else(|_| z.to_owned()),
        Path::FusedSigmoid => z.mapv(|v| neurite_tensor::Activation::Sigmoid.apply(v)),
    }
}

/// Checks every entry of a loss's gradient at `input` (predictions, or logits for the fused
/// paths) against the five-point finite difference.
///
/// # Errors
/// Whatever the loss returns for these predictions and targets.
pub fn check_loss(
    loss: &dyn Loss<f64>,
    input: &Tensor<f64>,
    target: &Tensor<f64>,
    path: Path,
) -> Result<GradCheck> {
    let mut grad = Tensor::zeros(input.raw_dim());
    let probs = activate(path, input.view());
    match path {
        Path::Direct => loss.gradient(probs.view(), target.view(), &mut grad)?,
        _ => loss.gradient_wrt_logits(probs.view(), target.view(), &mut grad)?,
    };
    let mut report = GradCheck::default();
    let mut x = input.clone();
    let mut failure = None;
    for i in 0..x.len() {
        let original = x.as_slice().map_or(f64::NAN, |s| s[i]);
        let numeric = five_point(STEP, |delta| {
            if let Some(v) = x.as_slice_mut().and_then(|s| s.get_mut(i)) {
                *v = original + delta;
            }
            match loss.loss(activate(path, x.view()).view(), target.view()) {
                Ok(l) => Some(l),
                Err(e) => {
                    failure.get_or_insert(e);
                    None
                }
            }
        });
        if let Some(v) = x.as_slice_mut().and_then(|s| s.get_mut(i)) {
            *v = original;
        }
        let analytic = grad.as_slice().map_or(f64::NAN, |s| s[i]);
        report.record(
            || {
                format!(
                    "{}[{i}]",
                    if path == Path::Direct {
                        "y_pred"
                    } else {
                        "logits"
                    }
                )
            },
            analytic,
            numeric,
        );
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(report),
    }
}
