//! neurite-losses: training objectives, each returning the mean loss over a batch and its
//! gradient.
//!
//! | loss | targets | fuses with |
//! |---|---|---|
//! | [`MeanSquaredError`], [`MeanAbsoluteError`], [`Huber`] | same shape as predictions | — |
//! | [`BinaryCrossentropy`] | probabilities in `[0, 1]` | sigmoid |
//! | [`CategoricalCrossentropy`] | one-hot rows `[N, C]` | softmax |
//! | [`SparseCategoricalCrossentropy`] | integer labels `[N]` or `[N, 1]` | softmax |
//!
//! # The fused softmax / sigmoid gradient
//!
//! A model ending in softmax followed by cross-entropy should not back-propagate through the
//! softmax Jacobian: the gradient w.r.t. the logits is simply `(p - y) / N`, and computing it that
//! way is exact and stable even when `p` saturates. The protocol, which neurite-train follows:
//!
//! ```
//! use neurite_losses::{GradientWrt, Loss, SparseCategoricalCrossentropy};
//! use neurite_tensor::Activation;
//! let probs = ndarray::arr2(&[[0.2f32, 0.8], [0.6, 0.4]]).into_dyn();
//! let labels = ndarray::arr1(&[1.0f32, 0.0]).into_dyn();
//! let mut grad = ndarray::ArrayD::zeros(vec![0]);
//! // `Activation::Softmax` is `model.output_activation()` in neurite-layers.
//! let g = SparseCategoricalCrossentropy::default()
//!     .loss_and_gradient(probs.view(), labels.view(), Activation::Softmax, &mut grad)
//!     .unwrap();
//! assert_eq!(g.wrt, GradientWrt::Logits); // -> model.backward_from_logits(grad)
//! assert!((grad[[0, 1]] - (0.8 - 1.0) / 2.0).abs() < 1e-7);
//! ```
//!
//! With `from_logits: true` the model's output is taken as logits and no fusion happens (the
//! loss applies the softmax itself, stably). Without it, probabilities are clipped to
//! `[1e-7, 1 - 1e-7]` as Keras does.
//!
//! Bad targets (a label beyond the classes, a NaN, a shape mismatch) are [`LossError`]s that
//! name the row.

mod binary;
mod categorical;
mod config;
mod error;
pub mod gradcheck;
mod loss;
mod regression;

pub use binary::{BinaryCrossentropy, EPSILON};
pub use categorical::{CategoricalCrossentropy, SparseCategoricalCrossentropy};
pub use config::LossConfig;
pub use error::{LossError, Result};
pub use loss::{GradientWrt, Loss, LossGradient};
pub use regression::{Huber, MeanAbsoluteError, MeanSquaredError};
