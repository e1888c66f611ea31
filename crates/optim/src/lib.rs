//! neurite-optim: optimizers and learning-rate schedules, following Keras' update rules.
//!
//! An [`Optimizer`] updates [`Param`](neurite_tensor::Param)s from their accumulated gradients:
//! [`Sgd`] (momentum, Nesterov), [`Adam`] (and AdamW through decoupled `weight_decay`),
//! [`RmsProp`] and [`Adagrad`]. Every optimizer takes a constant rate or a
//! [`LearningRateSchedule`] ([`ExponentialDecay`], [`PiecewiseConstant`], [`CosineDecay`]),
//! decoupled weight decay, an L2 term and gradient [`Clip`]ping. State is kept per parameter
//! name and can be exported and restored ([`OptimizerState`]). [`Plateau`] holds the logic of
//! Keras' ReduceLROnPlateau for a training-loop callback to wrap.
//!
//! ```
//! use ndarray::ArrayD;
//! use neurite_optim::{Adam, Optimizer};
//! use neurite_tensor::Param;
//!
//! // Minimize (w - 3)^2 with Adam.
//! let mut w = Param::new("w", ArrayD::from_elem(vec![1], 0.0f64));
//! let mut opt = Adam::<f64>::with_learning_rate(0.1)?;
//! for _ in 0..500 {
//!     let x = w.value()[[0]];
//!     w.grad_mut()[[0]] = 2.0 * (x - 3.0);
//!     opt.step(&mut [&mut w])?;
//! }
//! assert!((w.value()[[0]] - 3.0).abs() < 1e-3);
//! # Ok::<(), neurite_optim::OptimError>(())
//! ```

mod adagrad;
mod adam;
mod clip;
mod core;
mod error;
mod kernel;
mod optimizer;
mod plateau;
mod rmsprop;
mod schedule;
mod setters;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use clip::Clip;
pub use error::{OptimError, Result};
pub use optimizer::{CustomOptimizerConfig, Optimizer, OptimizerConfig};
pub use plateau::{MonitorMode, Plateau, PlateauConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::{
    CosineDecay, ExponentialDecay, LearningRate, LearningRateSchedule, PiecewiseConstant, Schedule,
};
pub use sgd::{Sgd, SgdConfig};
pub use state::OptimizerState;
