//! Adam and AdamW, following Keras' update exactly.

use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::clip::Clip;
use crate::core::{Pre, Rule, slot_slices};
use crate::error::{Result, check_non_negative, check_range};
use crate::kernel::for_each;
use crate::optimizer::optimizer;
use crate::schedule::LearningRate;
use crate::setters::setters;

/// Hyper-parameters of [`Adam`], with Keras' defaults (`learning_rate` 1e-3, `beta_1` 0.9,
/// `beta_2` 0.999, `epsilon` 1e-7). [`AdamConfig::adamw`] gives Keras' AdamW defaults.
///
/// Keras' update at step `t` (1 for the first), with gradient `g`:
///
/// ```text
/// m += (g - m) * (1 - beta_1)
/// v += (g*g - v) * (1 - beta_2)
/// alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
/// w -= m * alpha / (sqrt(v) + epsilon)
/// ```
///
/// With `amsgrad`, `v_hat = max(v_hat, v)` replaces `v` in the last line.
///
/// **How this differs from PyTorch's `torch.optim.Adam`.** PyTorch divides by
/// `sqrt(v / (1 - beta_2^t)) + eps`, i.e. it adds epsilon to the *bias-corrected* root, while
/// Keras folds the correction into `alpha` and adds epsilon to the *uncorrected* root (the
/// "epsilon hat" of Kingma and Ba, section 2). Keras' epsilon therefore equals PyTorch's
/// `eps * sqrt(1 - beta_2^t)`, which matters early in training and when gradients are tiny.
/// The default epsilon differs too (1e-7 here and in Keras, 1e-8 in PyTorch), and PyTorch's
/// `Adam(weight_decay=...)` is an L2 term added to the gradient (our `l2`), whereas Keras' and
/// our `weight_decay` is decoupled, as in PyTorch's AdamW (whose default is 0.01, Keras' 0.004).
///
/// Per-step scalars (`alpha`, `1 - beta`) are computed in f64 and rounded once to the element
/// type, where Keras computes them in the variable's dtype: results agree to an ulp or so.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdamConfig {
    /// A constant rate or a schedule.
    pub learning_rate: LearningRate,
    /// Decay of the first-moment estimate, in [0, 1).
    pub beta_1: f64,
    /// Decay of the second-moment estimate, in [0, 1).
    pub beta_2: f64,
    /// Added to `sqrt(v)` in the denominator; finite and > 0.
    pub epsilon: f64,
    /// Use the running maximum of `v` (AMSGrad).
    pub amsgrad: bool,
    /// Decoupled weight decay: `w -= lr * weight_decay * w` before each update (Keras
    /// `weight_decay`; this is what makes AdamW); 0 turns it off.
    pub weight_decay: f64,
    /// L2 penalty added to the gradient: `g += l2 * w`, before clipping (PyTorch Adam's
    /// `weight_decay`); 0 turns it off.
    pub l2: f64,
    /// Gradient clipping.
    pub clip: Clip,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            learning_rate: LearningRate::Constant(1e-3),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            weight_decay: 0.0,
            l2: 0.0,
            clip: Clip::None,
        }
    }
}

impl AdamConfig {
    /// Keras' AdamW defaults: Adam's, with decoupled `weight_decay` 0.004.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 0.004,
            ..AdamConfig::default()
        }
    }

    /// `AdamW` when decoupled weight decay is on, else `Adam`.
    pub(crate) fn name(&self) -> &'static str {
        if self.weight_decay > 0.0 {
            "AdamW"
        } else {
            "Adam"
        }
    }

    fn validate(&self) -> Result<()> {
        let name = self.name();
        check_range(name, "beta_1", self.beta_1, 0.0, 1.0, true)?;
        check_range(name, "beta_2", self.beta_2, 0.0, 1.0, true)?;
        check_non_negative(name, "epsilon", self.epsilon, true)
    }
}

/// Per-step scalars of Adam.
#[derive(Clone, Copy)]
pub(crate) struct AdamCoeffs<F> {
    alpha: F,
    one_minus_beta_1: F,
    one_minus_beta_2: F,
    epsilon: F,
}

impl<F: Float> Rule<F> for AdamConfig {
    type Coeffs = AdamCoeffs<F>;

    fn slot_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["momentum", "velocity", "velocity_hat"]
        } else {
            &["momentum", "velocity"]
        }
    }

    fn coefficients(&self, lr: f64, t: u64) -> AdamCoeffs<F> {
        // powi takes an i32; beyond that the powers are 0 in f64 anyway.
        let t = t.min(i32::MAX as u64) as i32;
        let alpha = lr * (1.0 - self.beta_2.powi(t)).sqrt() / (1.0 - self.beta_1.powi(t));
        AdamCoeffs {
            alpha: F::from_f64(alpha),
            one_minus_beta_1: F::from_f64(1.0 - self.beta_1),
            one_minus_beta_2: F::from_f64(1.0 - self.beta_2),
            epsilon: F::from_f64(self.epsilon),
        }
    }

    fn update<P: Pre<F>>(
        &self,
        c: AdamCoeffs<F>,
        pre: P,
        w: &mut [F],
        g: &[F],
        s: &mut [Tensor<F>],
    ) {
        let AdamCoeffs {
            alpha,
            one_minus_beta_1: b1,
            one_minus_beta_2: b2,
            epsilon,
        } = c;
        if self.amsgrad {
            let kernel = |w: &mut F, g: F, [m, v, v_hat]: [&mut F; 3]| {
                let g = pre.apply(w, g);
                *m += (g - *m) * b1;
                *v += (g * g - *v) * b2;
                if *v > *v_hat {
                    *v_hat = *v;
                }
                *w -= *m * alpha / (v_hat.sqrt() + epsilon);
            };
            for_each(w, g, slot_slices::<F, 3>(s), &kernel);
        } else {
            let kernel = |w: &mut F, g: F, [m, v]: [&mut F; 2]| {
                let g = pre.apply(w, g);
                *m += (g - *m) * b1;
                *v += (g * g - *v) * b2;
                *w -= *m * alpha / (v.sqrt() + epsilon);
            };
            for_each(w, g, slot_slices::<F, 2>(s), &kernel);
        }
    }
}

optimizer! {
    /// Adam (Keras `Adam`), and AdamW when `weight_decay` is set: see [`AdamConfig`].
    ///
    /// ```
    /// use ndarray::ArrayD;
    /// use neurite_optim::{Adam, Optimizer};
    /// use neurite_tensor::Param;
    ///
    /// let mut opt = Adam::<f64>::default();
    /// let mut w = Param::new("w", ArrayD::from_elem(vec![1], 1.0));
    /// w.grad_mut().fill(2.0);
    /// opt.step(&mut [&mut w])?;
    /// // First step: m = 0.2, v = 0.004, alpha = 1e-3 * sqrt(0.001) / 0.1,
    /// // so w moves by 0.2 * alpha / (sqrt(0.004) + 1e-7) = 1e-3 * (1 - 1.58e-6).
    /// assert!((w.value()[[0]] - (1.0 - 0.001)).abs() < 1e-8);
    /// # Ok::<(), neurite_optim::OptimError>(())
    /// ```
    Adam(AdamConfig) as Adam
}

impl<F: Float> Adam<F> {
    /// Adam with Keras' defaults and a constant rate.
    pub fn with_learning_rate(learning_rate: f64) -> Result<Self> {
        Self::new(AdamConfig {
            learning_rate: learning_rate.into(),
            ..AdamConfig::default()
        })
    }

    /// AdamW with a constant rate and decoupled weight decay, other settings Keras' defaults.
    pub fn adamw(learning_rate: f64, weight_decay: f64) -> Result<Self> {
        Self::new(AdamConfig {
            learning_rate: learning_rate.into(),
            weight_decay,
            ..AdamConfig::default()
        })
    }
}

setters!(Adam {
    /// Decay of the first-moment estimate, in [0, 1) (Keras `beta_1`, default 0.9).
    beta_1: f64,
    /// Decay of the second-moment estimate, in [0, 1) (Keras `beta_2`, default 0.999).
    beta_2: f64,
    /// Added to `sqrt(v)`, > 0 (Keras `epsilon`, default 1e-7).
    epsilon: f64,
    /// The AMSGrad variant (Keras `amsgrad`).
    amsgrad: bool,
});
