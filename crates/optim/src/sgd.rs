//! Stochastic gradient descent with optional momentum and Nesterov momentum, in Keras' form.

use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::clip::Clip;
use crate::core::{Pre, Rule, slot_slices};
use crate::error::{Result, check_range};
use crate::kernel::for_each;
use crate::optimizer::optimizer;
use crate::schedule::LearningRate;
use crate::setters::setters;

/// Hyper-parameters of [`Sgd`], with Keras' defaults (`learning_rate` 0.01, no momentum).
///
/// With `g` the gradient and `lr` the rate, Keras' update is:
/// - without momentum: `w -= lr * g`;
/// - with momentum: `m = momentum * m - lr * g`, then `w += m`;
/// - Nesterov: `m = momentum * m - lr * g`, then `w += momentum * m - lr * g`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SgdConfig {
    /// A constant rate or a schedule.
    pub learning_rate: LearningRate,
    /// Momentum factor in [0, 1]; 0 keeps no velocity.
    pub momentum: f64,
    /// Nesterov momentum (only meaningful with `momentum > 0`).
    pub nesterov: bool,
    /// Decoupled weight decay: `w -= lr * weight_decay * w` before each update (Keras
    /// `weight_decay`); 0 turns it off.
    pub weight_decay: f64,
    /// L2 penalty added to the gradient: `g += l2 * w`, before clipping; 0 turns it off.
    pub l2: f64,
    /// Gradient clipping.
    pub clip: Clip,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            learning_rate: LearningRate::Constant(0.01),
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            l2: 0.0,
            clip: Clip::None,
        }
    }
}

impl SgdConfig {
    pub(crate) fn name(&self) -> &'static str {
        "SGD"
    }

    fn validate(&self) -> Result<()> {
        check_range("SGD", "momentum", self.momentum, 0.0, 1.0, false)
    }
}

/// Per-step scalars of SGD.
#[derive(Clone, Copy)]
pub(crate) struct SgdCoeffs<F> {
    lr: F,
    momentum: F,
}

impl<F: Float> Rule<F> for SgdConfig {
    type Coeffs = SgdCoeffs<F>;

    fn slot_names(&self) -> &'static [&'static str] {
        if self.momentum > 0.0 {
            &["momentum"]
        } else {
            &[]
        }
    }

    fn coefficients(&self, lr: f64, _t: u64) -> SgdCoeffs<F> {
        SgdCoeffs {
            lr: F::from_f64(lr),
            momentum: F::from_f64(self.momentum),
        }
    }

    fn update<P: Pre<F>>(
        &self,
        c: SgdCoeffs<F>,
        pre: P,
        w: &mut [F],
        g: &[F],
        s: &mut [Tensor<F>],
    ) {
        let SgdCoeffs { lr, momentum } = c;
        if self.momentum <= 0.0 {
            for_each(w, g, [], &|w: &mut F, g, []: [&mut F; 0]| {
                let g = pre.apply(w, g);
                *w -= g * lr;
            });
        } else if self.nesterov {
            for_each(
                w,
                g,
                slot_slices::<F, 1>(s),
                &|w: &mut F, g, [m]: [&mut F; 1]| {
                    let g = pre.apply(w, g);
                    *m = -g * lr + *m * momentum;
                    *w += -g * lr + *m * momentum;
                },
            );
        } else {
            for_each(
                w,
                g,
                slot_slices::<F, 1>(s),
                &|w: &mut F, g, [m]: [&mut F; 1]| {
                    let g = pre.apply(w, g);
                    *m = -g * lr + *m * momentum;
                    *w += *m;
                },
            );
        }
    }
}

optimizer! {
    /// Stochastic gradient descent (Keras `SGD`): see [`SgdConfig`] for the update.
    ///
    /// ```
    /// use ndarray::ArrayD;
    /// use neurite_optim::{Optimizer, Sgd, SgdConfig};
    /// use neurite_tensor::Param;
    ///
    /// let mut opt = Sgd::<f64>::new(SgdConfig { momentum: 0.9, ..SgdConfig::default() })?;
    /// let mut w = Param::new("w", ArrayD::from_elem(vec![1], 1.0));
    /// w.grad_mut().fill(1.0);
    /// opt.step(&mut [&mut w])?; // m = -0.01, w = 0.99
    /// opt.step(&mut [&mut w])?; // m = 0.9 * -0.01 - 0.01 = -0.019, w = 0.971
    /// assert!((w.value()[[0]] - 0.971).abs() < 1e-15);
    /// # Ok::<(), neurite_optim::OptimError>(())
    /// ```
    Sgd(SgdConfig) as Sgd
}

impl<F: Float> Sgd<F> {
    /// Plain SGD with a constant rate.
    pub fn with_learning_rate(learning_rate: f64) -> Result<Self> {
        Self::new(SgdConfig {
            learning_rate: learning_rate.into(),
            ..SgdConfig::default()
        })
    }
}

setters!(Sgd {
    /// Momentum in [0, 1] (Keras `momentum`, default 0).
    momentum: f64,
    /// Nesterov momentum (Keras `nesterov`).
    nesterov: bool,
});
