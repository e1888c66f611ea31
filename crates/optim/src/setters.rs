//! Keras-style setters on the optimizers: `Adam::default().learning_rate(1e-4).beta_1(0.95)`.
//!
//! Setters take plain values and do not fail: everything is checked once, by
//! [`Optimizer::validate`](crate::Optimizer::validate), which compiling a model calls (and
//! every `step` repeats). They are meant for a fresh optimizer: each one starts the state
//! (step count, moments) afresh.

/// The setters every optimizer has, and the one that rebuilds the core after a change;
/// expanded in each optimizer's module (its fields are private there).
macro_rules! setters {
    ($ty:ident { $($(#[$doc:meta])* $field:ident: $t:ty),* $(,)? }) => {
        impl<F: neurite_tensor::Float> $ty<F> {
            fn reconfigured(mut self) -> Self {
                self.core = $crate::core::Core::unchecked(self.config.name(), &self.config, self.config.common());
                self
            }

            /// The learning rate: a constant (`1e-3`) or a schedule
            /// (`ExponentialDecay::new(1e-3, 10_000, 0.9)`), as Keras' `learning_rate=`. (The
            /// rate in use is read with `Optimizer::learning_rate(&optimizer)`.)
            pub fn learning_rate(mut self, learning_rate: impl Into<$crate::LearningRate>) -> Self {
                self.config.learning_rate = learning_rate.into();
                self.reconfigured()
            }

            /// Decoupled weight decay, `w -= lr * weight_decay * w` before each update (Keras
            /// `weight_decay`); 0 turns it off.
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                self.config.weight_decay = weight_decay;
                self.reconfigured()
            }

            /// An L2 penalty added to the gradient, `g += l2 * w` (PyTorch's `weight_decay`).
            pub fn l2(mut self, l2: f64) -> Self {
                self.config.l2 = l2;
                self.reconfigured()
            }

            /// Clamps every gradient element to `[-c, c]` (Keras `clipvalue`).
            pub fn clipvalue(mut self, c: f64) -> Self {
                self.config.clip = $crate::Clip::Value(c);
                self.reconfigured()
            }

            /// Caps each gradient tensor's L2 norm at `c` (Keras `clipnorm`).
            pub fn clipnorm(mut self, c: f64) -> Self {
                self.config.clip = $crate::Clip::Norm(c);
                self.reconfigured()
            }

            /// Caps the L2 norm of all gradients together at `c` (Keras `global_clipnorm`).
            pub fn global_clipnorm(mut self, c: f64) -> Self {
                self.config.clip = $crate::Clip::GlobalNorm(c);
                self.reconfigured()
            }

            $(
                $(#[$doc])*
                pub fn $field(mut self, $field: $t) -> Self {
                    self.config.$field = $field;
                    self.reconfigured()
                }
            )*
        }
    };
}

pub(crate) use setters;

#[cfg(test)]
mod tests {
    use ndarray::ArrayD;
    use neurite_tensor::Param;

    use crate::{Adam, AdamConfig, ExponentialDecay, Optimizer, Sgd, SgdConfig};

    fn steps(opt: &mut dyn Optimizer<f64>) -> f64 {
        let mut w = Param::new("w", ArrayD::from_elem(vec![1], 1.0));
        for _ in 0..3 {
            w.grad_mut().fill(0.5);
            opt.step(&mut [&mut w]).unwrap();
        }
        w.value()[[0]]
    }

    #[test]
    fn setters_give_the_same_optimizer_as_the_config() {
        let schedule = ExponentialDecay::new(0.1, 2, 0.5).staircase(true);
        let mut built = Adam::<f64>::default()
            .learning_rate(schedule.clone())
            .beta_1(0.8)
            .amsgrad(true)
            .clipnorm(0.4);
        let config = AdamConfig {
            learning_rate: schedule.into(),
            beta_1: 0.8,
            amsgrad: true,
            clip: crate::Clip::Norm(0.4),
            ..AdamConfig::default()
        };
        let mut reference = Adam::<f64>::new(config).unwrap();
        assert_eq!(steps(&mut built).to_bits(), steps(&mut reference).to_bits());
        assert_eq!(built.state().tensors.len(), 3); // momentum, velocity, velocity_hat

        let mut sgd = Sgd::<f64>::default()
            .learning_rate(0.1)
            .momentum(0.9)
            .nesterov(true);
        let mut sgd_ref = Sgd::<f64>::new(SgdConfig {
            learning_rate: 0.1.into(),
            momentum: 0.9,
            nesterov: true,
            ..SgdConfig::default()
        })
        .unwrap();
        assert_eq!(steps(&mut sgd).to_bits(), steps(&mut sgd_ref).to_bits());
    }

    #[test]
    fn invalid_values_are_reported_by_validate_and_step() {
        let mut bad = Adam::<f64>::default().beta_1(1.5);
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("beta_1"), "{err}");
        let mut w = Param::new("w", ArrayD::from_elem(vec![1], 1.0));
        assert!(bad.step(&mut [&mut w]).is_err());
        assert_eq!(w.value()[[0]], 1.0);
        let schedule = ExponentialDecay::new(0.1, 0, 0.5);
        let err = Sgd::<f64>::default()
            .learning_rate(schedule)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("decay_steps"), "{err}");
        assert!(
            Sgd::<f64>::default()
                .learning_rate(-1.0)
                .validate()
                .is_err()
        );
        assert!(Sgd::<f64>::default().clipvalue(0.0).validate().is_err());
    }
}
