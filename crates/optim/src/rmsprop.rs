//! RMSprop, following Keras' update exactly (epsilon inside the square root).

use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::clip::Clip;
use crate::core::{Pre, Rule, slot_slices};
use crate::error::{Result, check_non_negative, check_range};
use crate::kernel::for_each;
use crate::optimizer::optimizer;
use crate::schedule::LearningRate;
use crate::setters::setters;

/// Hyper-parameters of [`RmsProp`], with Keras' defaults (`learning_rate` 1e-3, `rho` 0.9,
/// `momentum` 0, `epsilon` 1e-7, not centered).
///
/// Keras' update, with gradient `g`:
///
/// ```text
/// v = rho * v + (1 - rho) * g*g
/// centered:     a = rho * a + (1 - rho) * g;   den = v - a*a + epsilon
/// not centered: den = v + epsilon
/// inc = lr * g / sqrt(den)
/// momentum > 0: mom = momentum * mom + inc;  w -= mom
/// otherwise:    w -= inc
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RmsPropConfig {
    /// A constant rate or a schedule.
    pub learning_rate: LearningRate,
    /// Decay of the mean square, in [0, 1).
    pub rho: f64,
    /// Momentum in [0, 1]; 0 keeps no momentum slot.
    pub momentum: f64,
    /// Added to the mean square under the root; finite and > 0.
    pub epsilon: f64,
    /// Normalize by the estimated variance rather than the mean square.
    pub centered: bool,
    /// Decoupled weight decay: `w -= lr * weight_decay * w` before each update; 0 turns it off.
    pub weight_decay: f64,
    /// L2 penalty added to the gradient: `g += l2 * w`, before clipping; 0 turns it off.
    pub l2: f64,
    /// Gradient clipping.
    pub clip: Clip,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            learning_rate: LearningRate::Constant(1e-3),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            weight_decay: 0.0,
            l2: 0.0,
            clip: Clip::None,
        }
    }
}

impl RmsPropConfig {
    pub(crate) fn name(&self) -> &'static str {
        "RMSprop"
    }

    fn validate(&self) -> Result<()> {
        check_range("RMSprop", "rho", self.rho, 0.0, 1.0, true)?;
        check_range("RMSprop", "momentum", self.momentum, 0.0, 1.0, false)?;
        check_non_negative("RMSprop", "epsilon", self.epsilon, true)
    }
}

/// Per-step scalars of RMSprop.
#[derive(Clone, Copy)]
pub(crate) struct RmsPropCoeffs<F> {
    lr: F,
    rho: F,
    one_minus_rho: F,
    momentum: F,
    epsilon: F,
}

impl<F: Float> Rule<F> for RmsPropConfig {
    type Coeffs = RmsPropCoeffs<F>;

    fn slot_names(&self) -> &'static [&'static str] {
        // Keras' order: velocity, then momentum, then average_gradient.
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["velocity"],
            (true, false) => &["velocity", "momentum"],
            (false, true) => &["velocity", "average_gradient"],
            (true, true) => &["velocity", "momentum", "average_gradient"],
        }
    }

    fn coefficients(&self, lr: f64, _t: u64) -> RmsPropCoeffs<F> {
        RmsPropCoeffs {
            lr: F::from_f64(lr),
            rho: F::from_f64(self.rho),
            one_minus_rho: F::from_f64(1.0 - self.rho),
            momentum: F::from_f64(self.momentum),
            epsilon: F::from_f64(self.epsilon),
        }
    }

    fn update<P: Pre<F>>(
        &self,
        c: RmsPropCoeffs<F>,
        pre: P,
        w: &mut [F],
        g: &[F],
        s: &mut [Tensor<F>],
    ) {
        let RmsPropCoeffs {
            lr,
            rho,
            one_minus_rho,
            momentum,
            epsilon,
        } = c;
        match (self.momentum > 0.0, self.centered) {
            (false, false) => {
                let kernel = |w: &mut F, g: F, [v]: [&mut F; 1]| {
                    let g = pre.apply(w, g);
                    *v = rho * *v + one_minus_rho * (g * g);
                    *w -= lr * g / (*v + epsilon).sqrt();
                };
                for_each(w, g, slot_slices::<F, 1>(s), &kernel);
            }
            (true, false) => {
                let kernel = |w: &mut F, g: F, [v, mom]: [&mut F; 2]| {
                    let g = pre.apply(w, g);
                    *v = rho * *v + one_minus_rho * (g * g);
                    *mom = momentum * *mom + lr * g / (*v + epsilon).sqrt();
                    *w -= *mom;
                };
                for_each(w, g, slot_slices::<F, 2>(s), &kernel);
            }
            (false, true) => {
                let kernel = |w: &mut F, g: F, [v, a]: [&mut F; 2]| {
                    let g = pre.apply(w, g);
                    *v = rho * *v + one_minus_rho * (g * g);
                    *a = rho * *a + one_minus_rho * g;
                    *w -= lr * g / (*v - *a * *a + epsilon).sqrt();
                };
                for_each(w, g, slot_slices::<F, 2>(s), &kernel);
            }
            (true, true) => {
                let kernel = |w: &mut F, g: F, [v, mom, a]: [&mut F; 3]| {
                    let g = pre.apply(w, g);
                    *v = rho * *v + one_minus_rho * (g * g);
                    *a = rho * *a + one_minus_rho * g;
                    *mom = momentum * *mom + lr * g / (*v - *a * *a + epsilon).sqrt();
                    *w -= *mom;
                };
                for_each(w, g, slot_slices::<F, 3>(s), &kernel);
            }
        }
    }
}

optimizer! {
    /// RMSprop (Keras `RMSprop`): see [`RmsPropConfig`] for the update.
    ///
    /// ```
    /// use ndarray::ArrayD;
    /// use neurite_optim::{Optimizer, RmsProp, RmsPropConfig};
    /// use neurite_tensor::Param;
    ///
    /// // Keras' docstring example: lr 0.1, loss w^2 / 2 (gradient w), w = 10 -> 9.683772.
    /// let mut opt = RmsProp::<f32>::new(RmsPropConfig { learning_rate: 0.1.into(), ..Default::default() })?;
    /// let mut w = Param::new("w", ArrayD::from_elem(vec![], 10.0f32));
    /// w.grad_mut().fill(10.0);
    /// opt.step(&mut [&mut w])?;
    /// assert!((w.value()[[]] - 9.683772).abs() < 1e-5);
    /// # Ok::<(), neurite_optim::OptimError>(())
    /// ```
    RmsProp(RmsPropConfig) as RmsProp
}

setters!(RmsProp {
    /// Decay of the mean square, in [0, 1) (Keras `rho`, default 0.9).
    rho: f64,
    /// Momentum in [0, 1] (Keras `momentum`, default 0).
    momentum: f64,
    /// Added under the root, > 0 (Keras `epsilon`, default 1e-7).
    epsilon: f64,
    /// Normalise by the estimated variance (Keras `centered`).
    centered: bool,
});
