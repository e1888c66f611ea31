//! Gradient clipping, as Keras' `clipvalue`, `clipnorm` and `global_clipnorm` define it.

use serde::{Deserialize, Serialize};

use crate::error::{Result, check_non_negative};

/// How gradients are clipped before an update. As in Keras 3, one kind at a time.
///
/// ```
/// use neurite_optim::{AdamConfig, Clip};
/// let config = AdamConfig { clip: Clip::GlobalNorm(1.0), ..AdamConfig::default() };
/// assert_eq!(config.clip, Clip::GlobalNorm(1.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Clip {
    /// No clipping.
    #[default]
    None,
    /// Every element is clamped to `[-c, c]` (Keras `clipvalue`). NaN stays NaN.
    Value(f64),
    /// Each tensor is scaled by `c / max(norm, c)`, its L2 norm capped at `c` (Keras `clipnorm`).
    Norm(f64),
    /// All tensors together are scaled by `c / max(global_norm, c)`, where the global norm is the
    /// L2 norm of all gradients taken as one vector (Keras `global_clipnorm`). A non-finite
    /// global norm turns every gradient into NaN, as in Keras, so the failure is visible.
    GlobalNorm(f64),
}

impl Clip {
    /// Checks that the threshold is finite and > 0.
    pub fn validate(&self, optimizer: &'static str) -> Result<()> {
        match *self {
            Clip::None => Ok(()),
            Clip::Value(c) => check_non_negative(optimizer, "clip value", c, true),
            Clip::Norm(c) => check_non_negative(optimizer, "clip norm", c, true),
            Clip::GlobalNorm(c) => check_non_negative(optimizer, "clip global norm", c, true),
        }
    }
}

/// Keras' per-tensor clip is `g * c / max(norm, c)`: returns that `(c, max(norm, c))` pair, with
/// a NaN divisor for a NaN norm so the failure stays visible.
pub(crate) fn norm_ratio(norm: f64, c: f64) -> (f64, f64) {
    if norm.is_nan() {
        (c, f64::NAN)
    } else {
        (c, norm.max(c))
    }
}

/// Keras' global factor `c * min(1 / norm, 1 / c)` (taken as exactly 1 below the cap), NaN for
/// a non-finite norm (Keras adds `norm - norm` to the factor for that purpose).
pub(crate) fn global_norm_scale(norm: f64, c: f64) -> f64 {
    if !norm.is_finite() {
        f64::NAN
    } else if norm > c {
        c * (1.0 / norm)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales() {
        assert_eq!(norm_ratio(0.5, 1.0), (1.0, 1.0));
        assert_eq!(norm_ratio(4.0, 2.0), (2.0, 4.0));
        assert!(norm_ratio(f64::NAN, 1.0).1.is_nan());
        assert_eq!(global_norm_scale(0.5, 1.0), 1.0);
        assert_eq!(global_norm_scale(4.0, 1.0), 0.25);
        assert_eq!(global_norm_scale(0.0, 1.0), 1.0);
        assert!(global_norm_scale(f64::INFINITY, 1.0).is_nan());
        assert!(global_norm_scale(f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn thresholds_must_be_positive() {
        assert!(Clip::Value(0.0).validate("t").is_err());
        assert!(Clip::Norm(-1.0).validate("t").is_err());
        assert!(Clip::GlobalNorm(f64::INFINITY).validate("t").is_err());
        assert!(Clip::Norm(1.0).validate("t").is_ok());
    }
}
