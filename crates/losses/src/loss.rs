//! The `Loss` trait and the fused-gradient protocol.

use ndarray::{ArrayViewD, IxDyn, Zip};
use neurite_tensor::{Activation, Float, Tensor};

use crate::{LossConfig, LossError, Result};

/// What a gradient returned by [`Loss::loss_and_gradient`] is taken with respect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradientWrt {
    /// The model's output `y_pred`: back-propagate with `Sequential::backward`.
    Output,
    /// The logits before the model's final softmax/sigmoid: back-propagate with
    /// `Sequential::backward_from_logits`.
    Logits,
}

/// A loss value with the meaning of the gradient written next to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossGradient<F> {
    /// The mean loss over the batch.
    pub loss: F,
    /// What the gradient was taken with respect to.
    pub wrt: GradientWrt,
}

/// A training objective: the mean loss over a batch and its gradient.
///
/// Predictions are `[N, ...]` with the batch axis first; class scores are `[N, C]`. All
/// gradients are of the *mean* loss (they carry the `1 / N`).
pub trait Loss<F: Float>: Send + Sync {
    /// The Keras name: `mean_squared_error`, `categorical_crossentropy`, ...
    fn name(&self) -> &'static str;

    /// The loss and its settings, as a model file records them. The default, for a loss
    /// defined outside neurite, is [`LossConfig::Custom`] with [`Loss::name`].
    fn config(&self) -> LossConfig {
        LossConfig::Custom {
            name: self.name().to_string(),
        }
    }

    /// The mean loss over the batch.
    ///
    /// # Errors
    /// [`LossError::Shape`] or [`LossError::Target`] (naming the row).
    fn loss(&self, y_pred: ArrayViewD<'_, F>, y_true: ArrayViewD<'_, F>) -> Result<F>;

    /// The mean loss, with `d loss / d y_pred` written into `grad` (reshaped if needed).
    ///
    /// # Errors
    /// As [`Loss::loss`]; `grad` is left unspecified on error.
    fn gradient(
        &self,
        y_pred: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        grad: &mut Tensor<F>,
    ) -> Result<F>;

    /// The output activation this loss absorbs ([`Activation::Softmax`],
    /// [`Activation::Sigmoid`]), if it has a fused gradient for it. Compared with the model's
    /// output activation (`Sequential::output_activation` in neurite-layers).
    fn fused_activation(&self) -> Option<Activation> {
        None
    }

    /// The mean loss, with `d loss / d logits` written into `grad`, given `probs` =
    /// activation(logits) from a model whose output activation is [`Loss::fused_activation`]:
    /// the stable fused form `(p - y) / N`, without the activation's Jacobian.
    ///
    /// # Errors
    /// [`LossError::NotFusable`] when the loss has no fused form; otherwise as [`Loss::loss`].
    fn gradient_wrt_logits(
        &self,
        probs: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        grad: &mut Tensor<F>,
    ) -> Result<F> {
        let _ = (probs, y_true, grad);
        Err(LossError::NotFusable {
            loss: self.name(),
            activation: String::from("(none)"),
        })
    }

    /// The one call a training loop needs: the fused logits gradient when the model's output
    /// activation (`output_activation`, e.g. `model.output_activation()`) is the one this
    /// loss fuses with, otherwise the gradient w.r.t. the output. The result says which.
    ///
    /// # Errors
    /// As [`Loss::loss`].
    fn loss_and_gradient(
        &self,
        y_pred: ArrayViewD<'_, F>,
        y_true: ArrayViewD<'_, F>,
        output_activation: Activation,
        grad: &mut Tensor<F>,
    ) -> Result<LossGradient<F>> {
        if self.fused_activation() == Some(output_activation) {
            let loss = self.gradient_wrt_logits(y_pred, y_true, grad)?;
            return Ok(LossGradient {
                loss,
                wrt: GradientWrt::Logits,
            });
        }
        let loss = self.gradient(y_pred, y_true, grad)?;
        Ok(LossGradient {
            loss,
            wrt: GradientWrt::Output,
        })
    }
}

/// Reshapes `buf` to `shape`, allocating only when the shape changed.
pub(crate) fn ensure_shape<F: Float>(buf: &mut Tensor<F>, shape: &[usize]) {
    if buf.shape() != shape {
        *buf = Tensor::zeros(IxDyn(shape));
    }
}

/// Fails on the first NaN target, naming its row.
pub(crate) fn check_finite_targets<F: Float>(
    loss: &'static str,
    y_true: &ArrayViewD<'_, F>,
) -> Result<()> {
    if let Some((index, v)) = y_true.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(LossError::Target {
            loss,
            row: ndarray::Dimension::slice(&index)
                .first()
                .copied()
                .unwrap_or(0),
            value: v.to_string(),
            reason: String::from("targets must be finite numbers"),
        });
    }
    Ok(())
}

/// Fails unless predictions and targets have the same shape with a batch axis.
pub(crate) fn check_same_shape<F: Float>(
    loss: &'static str,
    y_pred: &ArrayViewD<'_, F>,
    y_true: &ArrayViewD<'_, F>,
) -> Result<()> {
    if y_pred.shape() != y_true.shape() || y_pred.ndim() == 0 || y_pred.is_empty() {
        return Err(LossError::Shape {
            loss,
            expected: "predictions and targets of the same non-empty shape [N, ...]",
            pred: y_pred.shape().to_vec(),
            target: y_true.shape().to_vec(),
            hint: "one target per prediction (use sparse_categorical_crossentropy for integer labels)",
        });
    }
    Ok(())
}

/// What a cross-entropy's predictions are: probabilities, logits, or the probabilities of the
/// output activation the loss fuses with (its gradient is then w.r.t. the logits).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Input {
    Probs,
    Logits,
    FusedProbs,
}

impl Input {
    /// The predictions of a loss with or without `from_logits`.
    pub(crate) fn of(from_logits: bool) -> Self {
        if from_logits {
            Input::Logits
        } else {
            Input::Probs
        }
    }

    /// The predictions of the fused gradient: none for a loss that already takes logits.
    pub(crate) fn fused(loss: &'static str, from_logits: bool) -> Result<Self> {
        if from_logits {
            return Err(LossError::NotFusable {
                loss,
                activation: String::from("(from_logits: the output already is the logits)"),
            });
        }
        Ok(Input::FusedProbs)
    }
}

/// The mean over all elements of `element(p, t) = (loss, d loss / d p)`; with `grad`, the
/// derivatives divided by the element count go there. Shapes are checked by the caller.
pub(crate) fn mean_elementwise<F: Float>(
    y_pred: ArrayViewD<'_, F>,
    y_true: ArrayViewD<'_, F>,
    grad: Option<&mut Tensor<F>>,
    element: impl Fn(F, F) -> (F, F),
) -> F {
    let count = F::from_usize(y_pred.len());
    let mut total = F::zero();
    match grad {
        Some(grad) => {
            ensure_shape(grad, y_pred.shape());
            Zip::from(grad)
                .and(&y_pred)
                .and(&y_true)
                .for_each(|g, &p, &t| {
                    let (l, d) = element(p, t);
                    total += l;
                    *g = d / count;
                });
        }
        None => Zip::from(&y_pred)
            .and(&y_true)
            .for_each(|&p, &t| total += element(p, t).0),
    }
    total / count
}

/// Implements [`Loss`] for a cross-entropy `$ty` (a `Copy` struct with `from_logits`, saved as
/// `LossConfig::$ty`) named `$name` that fuses with the output activation `$activation`, and
/// its constructors `new` (from probabilities) and `from_logits`. The loss, its gradient and
/// the fused gradient are one computation, `$body`, of the predictions `$p`, the targets `$t`,
/// what the predictions are (`$input`, an [`Input`]) and the gradient buffer `$grad` (`None`
/// for the loss alone).
macro_rules! impl_cross_entropy {
    ($ty:ident, $name:expr, $activation:ident, |$p:ident, $t:ident, $input:ident, $grad:ident| $body:expr) => {
        impl $ty {
            /// From probabilities.
            pub fn new() -> Self {
                Self::default()
            }

            /// From logits.
            pub fn from_logits() -> Self {
                $ty { from_logits: true }
            }
        }

        impl<F: neurite_tensor::Float> $crate::Loss<F> for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            fn config(&self) -> $crate::LossConfig {
                $crate::LossConfig::$ty(*self)
            }

            fn loss(&self, $p: ArrayViewD<'_, F>, $t: ArrayViewD<'_, F>) -> $crate::Result<F> {
                let $input = $crate::loss::Input::of(self.from_logits);
                let $grad: Option<&mut neurite_tensor::Tensor<F>> = None;
                $body
            }

            fn gradient(
                &self,
                $p: ArrayViewD<'_, F>,
                $t: ArrayViewD<'_, F>,
                grad: &mut neurite_tensor::Tensor<F>,
            ) -> $crate::Result<F> {
                let $input = $crate::loss::Input::of(self.from_logits);
                let $grad = Some(grad);
                $body
            }

            fn fused_activation(&self) -> Option<neurite_tensor::Activation> {
                (!self.from_logits).then_some(neurite_tensor::Activation::$activation)
            }

            fn gradient_wrt_logits(
                &self,
                $p: ArrayViewD<'_, F>,
                $t: ArrayViewD<'_, F>,
                grad: &mut neurite_tensor::Tensor<F>,
            ) -> $crate::Result<F> {
                let $input = $crate::loss::Input::fused($name, self.from_logits)?;
                let $grad = Some(grad);
                $body
            }
        }
    };
}

pub(crate) use impl_cross_entropy;
