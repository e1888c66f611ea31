//! Activations: each elementwise function's value and derivative side by side, plus Softmax.
//!
//! The derivative takes both the input `x` and the output `y = f(x)`, so each function uses the
//! cheaper one (sigmoid and tanh from `y`, GELU from `x`); callers cache both.
//!
//! Softmax is the one variant that is not elementwise (each row is normalised). It is in the same
//! enum so that the whole workspace, from a layer's config to the loss that fuses with it, names
//! an activation with one type. It always runs along axis 1: the features of a `[N, F]` tensor,
//! the channels of an `[N, C, H, W]` one (what Keras' default `axis=-1` means in its channels-last
//! layout, and what ONNX `Softmax(axis=1)` computes).

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
use serde::{Deserialize, Serialize};

use crate::{Float, Result, TensorError, softmax_backward, softmax_into};

/// An activation function: elementwise, or Softmax along axis 1.
///
/// Serialized like Keras' `activation` argument, tagged by name:
/// `{"name": "relu"}`, `{"name": "leaky_relu", "alpha": 0.3}`, `{"name": "softmax"}`.
///
/// ```
/// use neurite_tensor::Activation;
/// assert_eq!(Activation::Relu.apply(-2.0f64), 0.0);
/// let y = Activation::Sigmoid.apply(0.0f64);
/// assert_eq!(Activation::Sigmoid.derivative(0.0, y), 0.25);
/// let json = serde_json::to_string(&Activation::Softmax).unwrap();
/// assert_eq!(json, r#"{"name":"softmax"}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Activation {
    /// Identity: `x`.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, `alpha * x` otherwise (Keras' default `alpha` is 0.3).
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f64,
    },
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.
    Elu {
        /// Scale of the negative branch (1.0 in Keras and PyTorch).
        alpha: f64,
    },
    /// Exact GELU: `x * Phi(x) = x / 2 * (1 + erf(x / sqrt 2))` (Keras' and PyTorch's default).
    Gelu,
    /// `ln(1 + exp(x))`.
    Softplus,
    /// `exp(x_i) / sum_j exp(x_j)` along axis 1, computed stably. Not elementwise: only
    /// [`Activation::forward`] and [`Activation::backward`] compute it.
    Softmax,
}

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

impl Activation {
    /// Whether the function maps each element on its own (every variant but Softmax).
    pub fn is_elementwise(self) -> bool {
        self != Activation::Softmax
    }

    /// Whether the function is not smooth at 0: ReLU and LeakyReLU (the derivative jumps) and
    /// ELU (the second derivative jumps from `alpha` to 0; with `alpha != 1` the derivative jumps
    /// too). Finite differences across such points are unreliable, so gradient checks keep
    /// pre-activations away from 0.
    pub fn has_kink(self) -> bool {
        matches!(
            self,
            Activation::Relu | Activation::LeakyRelu { .. } | Activation::Elu { .. }
        )
    }

    /// `f(x)`.
    ///
    /// # Panics
    /// For [`Activation::Softmax`], which has no value for one element alone (see
    /// [`Activation::is_elementwise`]); use [`Activation::forward`].
    #[inline]
    pub fn apply<F: Float>(self, x: F) -> F {
        let one = F::one();
        match self {
            Activation::Linear => x,
            Activation::Relu => {
                if x > F::zero() {
                    x
                } else {
                    F::zero()
                }
            }
            Activation::LeakyRelu { alpha } => {
                if x > F::zero() {
                    x
                } else {
                    F::from_f64(alpha) * x
                }
            }
            Activation::Sigmoid => {
                // Two branches so that exp never overflows.
                if x >= F::zero() {
                    one / (one + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (one + e)
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Elu { alpha } => {
                if x > F::zero() {
                    x
                } else {
                    F::from_f64(alpha) * x.exp_m1()
                }
            }
            Activation::Gelu => {
                let half = F::from_f64(0.5);
                half * x * (one + (x * F::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf())
            }
            Activation::Softplus => {
                // max(x, 0) + ln(1 + exp(-|x|)) is exact and cannot overflow.
                x.max(F::zero()) + (-x.abs()).exp().ln_1p()
            }
            Activation::Softmax => not_elementwise(),
        }
    }

    /// `f'(x)`, given the input `x` and the output `y = f(x)`.
    ///
    /// At the kinks of ReLU and LeakyReLU (x = 0) the derivative is taken from the left, as
    /// TensorFlow and PyTorch do.
    ///
    /// # Panics
    /// For [`Activation::Softmax`], whose Jacobian is not diagonal; use [`Activation::backward`].
    #[inline]
    pub fn derivative<F: Float>(self, x: F, y: F) -> F {
        let one = F::one();
        match self {
            Activation::Linear => one,
            Activation::Relu => {
                if x > F::zero() {
                    one
                } else {
                    F::zero()
                }
            }
            Activation::LeakyRelu { alpha } => {
                if x > F::zero() {
                    one
                } else {
                    F::from_f64(alpha)
                }
            }
            Activation::Sigmoid => y * (one - y),
            Activation::Tanh => one - y * y,
            Activation::Elu { alpha } => {
                if x > F::zero() {
                    one
                } else {
                    y + F::from_f64(alpha)
                }
            }
            Activation::Gelu => {
                let cdf = F::from_f64(0.5)
                    * (one + (x * F::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf());
                let pdf = F::from_f64(FRAC_1_SQRT_2PI) * (F::from_f64(-0.5) * x * x).exp();
                cdf + x * pdf
            }
            Activation::Softplus => Activation::Sigmoid.apply(x),
            Activation::Softmax => not_elementwise(),
        }
    }

    /// The name used in model files and summaries (`"relu"`, `"leaky_relu"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Elu { .. } => "elu",
            Activation::Gelu => "gelu",
            Activation::Softplus => "softplus",
            Activation::Softmax => "softmax",
        }
    }

    /// `y = f(x)` into `y` (same shape): elementwise, in parallel for large tensors; Softmax
    /// along axis 1.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] when the shapes differ; a rank below 2 for Softmax.
    pub fn forward<F: Float>(self, x: ArrayViewD<'_, F>, y: ArrayViewMutD<'_, F>) -> Result<()> {
        if self == Activation::Softmax {
            return softmax_into(x, 1, y);
        }
        same_shape("activation forward", x.shape(), y.shape())?;
        let zip = Zip::from(y).and(&x);
        if x.len() >= PARALLEL_LEN {
            zip.par_for_each(|y, &x| *y = self.apply(x));
        } else {
            zip.for_each(|y, &x| *y = self.apply(x));
        }
        Ok(())
    }

    /// `d_x = d_y * f'(x)` elementwise (Softmax: `d_y` times its Jacobian, row by row along
    /// axis 1), overwriting `d_x`, given the cached `x` and `y`.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] when the shapes differ; a rank below 2 for Softmax.
    pub fn backward<F: Float>(
        self,
        x: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        d_y: ArrayViewD<'_, F>,
        d_x: ArrayViewMutD<'_, F>,
    ) -> Result<()> {
        if self == Activation::Softmax {
            return softmax_backward(y, d_y, 1, d_x);
        }
        const OP: &str = "activation backward";
        same_shape(OP, x.shape(), y.shape())?;
        same_shape(OP, x.shape(), d_y.shape())?;
        same_shape(OP, x.shape(), d_x.shape())?;
        if self == Activation::Linear {
            Zip::from(d_x).and(&d_y).for_each(|d_x, &d_y| *d_x = d_y);
            return Ok(());
        }
        let zip = Zip::from(d_x).and(&x).and(&y).and(&d_y);
        if x.len() >= PARALLEL_LEN {
            zip.par_for_each(|d_x, &x, &y, &d_y| *d_x = d_y * self.derivative(x, y));
        } else {
            zip.for_each(|d_x, &x, &y, &d_y| *d_x = d_y * self.derivative(x, y));
        }
        Ok(())
    }
}

/// The scalar functions' answer for Softmax: a caller bug, since one element has no softmax.
#[cold]
fn not_elementwise() -> ! {
    panic!("Activation::Softmax is not elementwise: use Activation::forward / backward")
}

/// Tensors at least this long are processed by rayon; smaller ones are not worth the hand-off.
const PARALLEL_LEN: usize = 1 << 15;

fn same_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<()> {
    if a != b {
        return Err(TensorError::mismatch(op, format!("{a:?} vs {b:?}")));
    }
    Ok(())
}
