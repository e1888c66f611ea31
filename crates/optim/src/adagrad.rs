//! Adagrad, following Keras' update exactly (epsilon inside the square root).

use neurite_tensor::{Float, Tensor};
use serde::{Deserialize, Serialize};

use crate::clip::Clip;
use crate::core::{Pre, Rule, slot_slices};
use crate::error::{Result, check_non_negative};
use crate::kernel::for_each;
use crate::optimizer::optimizer;
use crate::schedule::LearningRate;
use crate::setters::setters;

/// Hyper-parameters of [`Adagrad`], with Keras' defaults (`learning_rate` 1e-3,
/// `initial_accumulator_value` 0.1, `epsilon` 1e-7).
///
/// Keras' update: `acc += g*g`, then `w -= lr * g / sqrt(acc + epsilon)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdagradConfig {
    /// A constant rate or a schedule.
    pub learning_rate: LearningRate,
    /// The accumulator's starting value, finite and >= 0.
    pub initial_accumulator_value: f64,
    /// Added to the accumulator under the root; finite and > 0.
    pub epsilon: f64,
    /// Decoupled weight decay: `w -= lr * weight_decay * w` before each update; 0 turns it off.
    pub weight_decay: f64,
    /// L2 penalty added to the gradient: `g += l2 * w`, before clipping; 0 turns it off.
    pub l2: f64,
    /// Gradient clipping.
    pub clip: Clip,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            learning_rate: LearningRate::Constant(1e-3),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            weight_decay: 0.0,
            l2: 0.0,
            clip: Clip::None,
        }
    }
}

impl AdagradConfig {
    pub(crate) fn name(&self) -> &'static str {
        "Adagrad"
    }

    fn validate(&self) -> Result<()> {
        let v = self.initial_accumulator_value;
        check_non_negative("Adagrad", "initial_accumulator_value", v, false)?;
        check_non_negative("Adagrad", "epsilon", self.epsilon, true)
    }
}

/// Per-step scalars of Adagrad.
#[derive(Clone, Copy)]
pub(crate) struct AdagradCoeffs<F> {
    lr: F,
    epsilon: F,
}

impl<F: Float> Rule<F> for AdagradConfig {
    type Coeffs = AdagradCoeffs<F>;

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulator"]
    }

    fn slot_init(&self) -> f64 {
        self.initial_accumulator_value
    }

    fn coefficients(&self, lr: f64, _t: u64) -> AdagradCoeffs<F> {
        AdagradCoeffs {
            lr: F::from_f64(lr),
            epsilon: F::from_f64(self.epsilon),
        }
    }

    fn update<P: Pre<F>>(
        &self,
        c: AdagradCoeffs<F>,
        pre: P,
        w: &mut [F],
        g: &[F],
        s: &mut [Tensor<F>],
    ) {
        let AdagradCoeffs { lr, epsilon } = c;
        let kernel = |w: &mut F, g: F, [acc]: [&mut F; 1]| {
            let g = pre.apply(w, g);
            *acc += g * g;
            *w -= lr * g / (*acc + epsilon).sqrt();
        };
        for_each(w, g, slot_slices::<F, 1>(s), &kernel);
    }
}

optimizer! {
    /// Adagrad (Keras `Adagrad`): see [`AdagradConfig`] for the update.
    ///
    /// ```
    /// use ndarray::ArrayD;
    /// use neurite_optim::{Adagrad, Optimizer};
    /// use neurite_tensor::Param;
    ///
    /// let mut opt = Adagrad::<f64>::default();
    /// let mut w = Param::new("w", ArrayD::from_elem(vec![1], 1.0));
    /// w.grad_mut().fill(0.3);
    /// opt.step(&mut [&mut w])?; // acc = 0.1 + 0.09 = 0.19; w -= 1e-3 * 0.3 / sqrt(0.19 + 1e-7)
    /// assert!((w.value()[[0]] - (1.0 - 0.0003 / (0.19f64 + 1e-7).sqrt())).abs() < 1e-15);
    /// # Ok::<(), neurite_optim::OptimError>(())
    /// ```
    Adagrad(AdagradConfig) as Adagrad
}

setters!(Adagrad {
    /// The accumulators' starting value, >= 0 (Keras `initial_accumulator_value`, 0.1).
    initial_accumulator_value: f64,
    /// Added under the root, > 0 (Keras `epsilon`, default 1e-7).
    epsilon: f64,
});
