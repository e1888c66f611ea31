//! The `Optimizer` trait the training loop drives, and `OptimizerConfig`, the serializable
//! description a model file records.

use std::fmt::Debug;

use neurite_tensor::{Float, Param};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::OptimizerState;
use crate::{Adagrad, AdagradConfig, Adam, AdamConfig, RmsProp, RmsPropConfig, Sgd, SgdConfig};

/// Updates parameters from their gradients, one step at a time.
///
/// A step reads each trainable parameter's gradient (as accumulated by backward passes; the
/// optimizer does not zero it) and updates its value in place. Non-trainable parameters are
/// skipped. State (moments, step count) is kept per parameter *name*, so names must be unique
/// within a step, and the same parameter must keep its name between steps.
///
/// ```
/// use ndarray::ArrayD;
/// use neurite_optim::{Optimizer, Sgd};
/// use neurite_tensor::Param;
///
/// let mut w = Param::new("w", ArrayD::from_elem(vec![2], 1.0f32));
/// w.grad_mut().fill(0.5);
/// let mut opt = Sgd::<f32>::with_learning_rate(0.1)?;
/// opt.step(&mut [&mut w])?;
/// assert_eq!(w.value().as_slice().unwrap(), &[0.95, 0.95]);
/// assert_eq!(opt.iterations(), 1);
/// # Ok::<(), neurite_optim::OptimError>(())
/// ```
pub trait Optimizer<F: Float>: Debug + Send {
    /// The optimizer's name: `SGD`, `Adam`, `AdamW`, `RMSprop` or `Adagrad` (as in Keras).
    fn name(&self) -> &'static str;

    /// The hyper-parameters, with the learning rate as it is now (callbacks may have changed it).
    fn config(&self) -> OptimizerConfig;

    /// Checks the hyper-parameters (a training loop calls it once, when the model is compiled;
    /// [`Optimizer::step`] checks them too).
    ///
    /// ```
    /// use neurite_optim::{Adam, Optimizer};
    /// assert!(Adam::<f32>::default().validate().is_ok());
    /// let err = Adam::<f32>::default().beta_2(1.0).validate().unwrap_err();
    /// assert!(err.to_string().contains("beta_2"), "{err}");
    /// ```
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Updates every trainable parameter once from its gradient.
    ///
    /// Fails, changing no value, on an invalid hyper-parameter, if a gradient's shape differs
    /// from its value's, if two
    /// parameters share a name, if saved state does not fit a parameter's shape, or if a
    /// schedule returns a negative or non-finite rate.
    fn step(&mut self, params: &mut [&mut Param<F>]) -> Result<()>;

    /// [`Optimizer::step`] over a slice of parameters (collects references: one small allocation).
    fn step_slice(&mut self, params: &mut [Param<F>]) -> Result<()> {
        let mut refs: Vec<&mut Param<F>> = params.iter_mut().collect();
        self.step(&mut refs)
    }

    /// Steps done so far (Keras `iterations`).
    fn iterations(&self) -> u64;

    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f64;

    /// Sets a constant learning rate (for callbacks such as ReduceLROnPlateau). Fails if the
    /// rate follows a schedule or is negative or non-finite.
    fn set_learning_rate(&mut self, learning_rate: f64) -> Result<()>;

    /// A copy of the state: step count, rate and per-parameter slots.
    fn state(&self) -> OptimizerState<F>;

    /// Replaces the state by a saved one. Checks the optimizer name, the slot names and that a
    /// parameter's slots agree in shape (shapes against the parameters are checked at the next
    /// step); on error nothing changes.
    fn load_state(&mut self, state: OptimizerState<F>) -> Result<()>;
}

/// Which optimizer, with which hyper-parameters: serializable, so a model file can record it.
///
/// ```
/// use neurite_optim::{AdamConfig, OptimizerConfig};
/// let config = OptimizerConfig::Adam(AdamConfig::default());
/// let opt = config.build::<f32>()?;
/// assert_eq!(opt.name(), "Adam");
/// assert_eq!(opt.learning_rate(), 1e-3);
/// # Ok::<(), neurite_optim::OptimError>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum OptimizerConfig {
    /// [`Sgd`].
    Sgd(SgdConfig),
    /// [`Adam`] (AdamW when its `weight_decay` is set).
    Adam(AdamConfig),
    /// [`RmsProp`].
    RmsProp(RmsPropConfig),
    /// [`Adagrad`].
    Adagrad(AdagradConfig),
    /// An optimizer defined outside neurite: its class name and its settings as JSON, which
    /// its [`Optimizer::config`] provides and a constructor registered under the class name
    /// reads back.
    Custom(CustomOptimizerConfig),
}

/// The saved form of a user-defined optimizer ([`OptimizerConfig::Custom`]).
///
/// ```
/// use neurite_optim::{CustomOptimizerConfig, OptimizerConfig};
/// let config = OptimizerConfig::Custom(CustomOptimizerConfig {
///     class_name: String::from("SignSgd"),
///     config: serde_json::json!({ "learning_rate": 0.01 }),
/// });
/// let err = config.build::<f32>().unwrap_err();
/// assert!(err.to_string().contains("SignSgd"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomOptimizerConfig {
    /// The name the optimizer is registered under (its [`Optimizer::name`], say).
    pub class_name: String,
    /// Its hyper-parameters, in whatever form it chooses.
    pub config: serde_json::Value,
}

impl OptimizerConfig {
    /// Builds the optimizer this config describes, with fresh state.
    ///
    /// # Errors
    /// An invalid hyper-parameter, or [`crate::OptimError::Unregistered`] for
    /// [`OptimizerConfig::Custom`], which only a constructor its owner registers can build.
    pub fn build<F: Float>(&self) -> Result<Box<dyn Optimizer<F>>> {
        Ok(match self {
            OptimizerConfig::Sgd(c) => Box::new(Sgd::new(c.clone())?),
            OptimizerConfig::Adam(c) => Box::new(Adam::new(c.clone())?),
            OptimizerConfig::RmsProp(c) => Box::new(RmsProp::new(c.clone())?),
            OptimizerConfig::Adagrad(c) => Box::new(Adagrad::new(c.clone())?),
            OptimizerConfig::Custom(c) => {
                return Err(crate::OptimError::Unregistered {
                    class_name: c.class_name.clone(),
                });
            }
        })
    }
}

/// Defines an optimizer `$ty`: the struct `{ config, core }` (with the docs given first) whose
/// config `$config` is the update rule and whose core holds the state every optimizer shares;
/// its `new` and its `Default` (Keras' defaults); the shared settings of `$config` (`common`);
/// and [`Optimizer`] over them, saving its config as `OptimizerConfig::$variant`.
macro_rules! optimizer {
    ($(#[$doc:meta])* $ty:ident($config:ident) as $variant:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $ty<F: neurite_tensor::Float> {
            config: $config,
            core: $crate::core::Core<F>,
        }

        impl<F: neurite_tensor::Float> $ty<F> {
            #[doc = concat!("The `", stringify!($ty), "` optimizer with the settings `config`; fails on an invalid hyper-parameter.")]
            pub fn new(config: $config) -> $crate::Result<Self> {
                config.validate()?;
                let core = $crate::core::Core::new(config.name(), &config, config.common())?;
                Ok($ty { config, core })
            }
        }

        impl<F: neurite_tensor::Float> Default for $ty<F> {
            #[doc = concat!("Keras' defaults: those of [`", stringify!($config), "::default`].")]
            fn default() -> Self {
                Self::new($config::default())
                    .expect(concat!("the default ", stringify!($ty), " settings are valid"))
            }
        }

        impl $config {
            /// The settings every optimizer has: the rate, decay, L2 penalty and clipping.
            fn common(&self) -> $crate::core::Common<'_> {
                $crate::core::Common {
                    learning_rate: &self.learning_rate,
                    weight_decay: self.weight_decay,
                    l2: self.l2,
                    clip: self.clip,
                }
            }
        }

        impl<F: neurite_tensor::Float> $crate::Optimizer<F> for $ty<F> {
            fn name(&self) -> &'static str {
                self.config.name()
            }

            fn config(&self) -> $crate::OptimizerConfig {
                let mut config = self.config.clone();
                config.learning_rate = self.core.live_learning_rate().clone();
                $crate::OptimizerConfig::$variant(config)
            }

            fn validate(&self) -> $crate::Result<()> {
                self.config.validate()?;
                self.config.common().validate(self.config.name())
            }

            fn step(&mut self, params: &mut [&mut neurite_tensor::Param<F>]) -> $crate::Result<()> {
                $crate::Optimizer::validate(self)?;
                self.core.step(&self.config, params)
            }

            fn iterations(&self) -> u64 {
                self.core.iterations()
            }

            fn learning_rate(&self) -> f64 {
                self.core.learning_rate()
            }

            fn set_learning_rate(&mut self, learning_rate: f64) -> $crate::Result<()> {
                self.core.set_learning_rate(learning_rate)
            }

            fn state(&self) -> $crate::OptimizerState<F> {
                self.core.state()
            }

            fn load_state(&mut self, state: $crate::OptimizerState<F>) -> $crate::Result<()> {
                self.core.load_state(state)
            }
        }
    };
}

pub(crate) use optimizer;
