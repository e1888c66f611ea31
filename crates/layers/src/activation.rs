//! The activations a layer can apply: the elementwise ones of neurite-tensor plus Softmax.
//!
//! Softmax is not elementwise (each row is normalised), which is why it lives here and not in the
//! tensor crate's [`neurite_tensor::Activation`]. It always runs along axis 1: the features of a
//! `[N, F]` tensor, the channels of an `[N, C, H, W]` one (what Keras' default `axis=-1` means in
//! its channels-last layout, and what ONNX `Softmax(axis=1)` computes).

use ndarray::{ArrayViewD, ArrayViewMutD};
use neurite_tensor::{Float, Result, softmax_backward, softmax_into};
use serde::{Deserialize, Serialize};

/// An activation fused into a layer (`Dense`, `Conv2D`) or applied by an activation layer.
///
/// Serialized like Keras' `activation` argument, tagged by name:
/// `{"name": "relu"}`, `{"name": "leaky_relu", "alpha": 0.3}`, `{"name": "softmax"}`.
///
/// ```
/// use neurite_layers::Activation;
/// let json = serde_json::to_string(&Activation::Softmax).unwrap();
/// assert_eq!(json, r#"{"name":"softmax"}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Activation {
    /// Identity.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, `alpha * x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs (Keras' default 0.3).
        alpha: f64,
    },
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.
    Elu {
        /// Scale of the negative branch (1.0 by default).
        alpha: f64,
    },
    /// Exact GELU, `x * Phi(x)`.
    Gelu,
    /// `ln(1 + exp(x))`.
    Softplus,
    /// `exp(x_i) / sum_j exp(x_j)` along axis 1, computed stably.
    Softmax,
}

impl Activation {
    /// The elementwise tensor activation, or `None` for Softmax.
    pub fn elementwise(self) -> Option<neurite_tensor::Activation> {
        use neurite_tensor::Activation as T;
        Some(match self {
            Activation::Linear => T::Linear,
            Activation::Relu => T::Relu,
            Activation::LeakyRelu { alpha } => T::LeakyRelu { alpha },
            Activation::Sigmoid => T::Sigmoid,
            Activation::Tanh => T::Tanh,
            Activation::Elu { alpha } => T::Elu { alpha },
            Activation::Gelu => T::Gelu,
            Activation::Softplus => T::Softplus,
            Activation::Softmax => return None,
        })
    }

    /// The Keras name: `"relu"`, `"softmax"`, ... (also what `Loss::fused_activation` compares
    /// against in neurite-losses).
    pub fn name(self) -> &'static str {
        match self.elementwise() {
            Some(act) => act.name(),
            None => "softmax",
        }
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

    /// `y = f(z)` into `y` (same shape; softmax along axis 1).
    ///
    /// # Errors
    /// A shape mismatch, or a rank below 2 for Softmax.
    pub fn forward<F: Float>(self, z: ArrayViewD<'_, F>, y: ArrayViewMutD<'_, F>) -> Result<()> {
        match self.elementwise() {
            Some(act) => act.forward(z, y),
            None => softmax_into(z, 1, y),
        }
    }

    /// `d_z = f'(z) * d_y` into `d_z`, given the cached `z` and `y`.
    ///
    /// # Errors
    /// A shape mismatch, or a rank below 2 for Softmax.
    pub fn backward<F: Float>(
        self,
        z: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        d_y: ArrayViewD<'_, F>,
        d_z: ArrayViewMutD<'_, F>,
    ) -> Result<()> {
        match self.elementwise() {
            Some(act) => act.backward(z, y, d_y, d_z),
            None => softmax_backward(y, d_y, 1, d_z),
        }
    }
}

impl From<neurite_tensor::Activation> for Activation {
    fn from(act: neurite_tensor::Activation) -> Self {
        use neurite_tensor::Activation as T;
        match act {
            T::Linear => Activation::Linear,
            T::Relu => Activation::Relu,
            T::LeakyRelu { alpha } => Activation::LeakyRelu { alpha },
            T::Sigmoid => Activation::Sigmoid,
            T::Tanh => Activation::Tanh,
            T::Elu { alpha } => Activation::Elu { alpha },
            T::Gelu => Activation::Gelu,
            T::Softplus => Activation::Softplus,
        }
    }
}
