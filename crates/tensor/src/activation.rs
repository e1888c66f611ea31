//! Elementwise activations: each function's value and derivative side by side.
//!
//! The derivative takes both the input `x` and the output `y = f(x)`, so each function uses the
//! cheaper one (sigmoid and tanh from `y`, GELU from `x`); callers cache both.

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
use serde::{Deserialize, Serialize};

use crate::{Float, Result, TensorError};

/// An elementwise activation function.
///
/// ```
/// use neurite_tensor::Activation;
/// assert_eq!(Activation::Relu.apply(-2.0f64), 0.0);
/// let y = Activation::Sigmoid.apply(0.0f64);
/// assert_eq!(Activation::Sigmoid.derivative(0.0, y), 0.25);
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
}

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

impl Activation {
    /// `f(x)`.
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
        }
    }

    /// `f'(x)`, given the input `x` and the output `y = f(x)`.
    ///
    /// At the kinks of ReLU and LeakyReLU (x = 0) the derivative is taken from the left, as
    /// TensorFlow and PyTorch do.
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
        }
    }

    /// `y = f(x)` elementwise into `y` (same shape), in parallel for large tensors.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] when the shapes differ.
    pub fn forward<F: Float>(self, x: ArrayViewD<'_, F>, y: ArrayViewMutD<'_, F>) -> Result<()> {
        same_shape("activation forward", x.shape(), y.shape())?;
        let zip = Zip::from(y).and(&x);
        if x.len() >= PARALLEL_LEN {
            zip.par_for_each(|y, &x| *y = self.apply(x));
        } else {
            zip.for_each(|y, &x| *y = self.apply(x));
        }
        Ok(())
    }

    /// `d_x = d_y * f'(x)` elementwise, overwriting `d_x`, given the cached `x` and `y`.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] when the shapes differ.
    pub fn backward<F: Float>(
        self,
        x: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        d_y: ArrayViewD<'_, F>,
        d_x: ArrayViewMutD<'_, F>,
    ) -> Result<()> {
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

/// Tensors at least this long are processed by rayon; smaller ones are not worth the hand-off.
const PARALLEL_LEN: usize = 1 << 15;

fn same_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<()> {
    if a != b {
        return Err(TensorError::mismatch(op, format!("{a:?} vs {b:?}")));
    }
    Ok(())
}
