//! neurite-layers: layers with explicit forward and backward passes, and `Sequential` models.
//!
//! Shapes are NCHW. Per-sample shapes (what [`Sequential::build`] and [`Layer::output_shape`]
//! take) have no batch axis; tensors passed to `forward`/`backward` have it in front. Letters:
//! `N` batch, `C` channels, `H`/`W` height and width, `F` filters, `KH`/`KW` kernel size.
//!
//! | item | what |
//! |---|---|
//! | [`Layer`] | the trait: `build`, `forward` (returns a view of the layer's output buffer), `backward` (accumulates parameter gradients), `params`, `config` |
//! | [`Dense`], [`Conv2D`] | with a fused [`Activation`] (incl. Softmax) |
//! | [`MaxPooling2D`], [`AveragePooling2D`], [`GlobalAveragePooling2D`] | pooling |
//! | [`Flatten`], [`Reshape`], [`Dropout`], [`BatchNormalization`] | the rest of the Keras basics |
//! | [`ActivationLayer`] | ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, ELU, GELU, Softplus, Linear |
//! | [`Sequential`] | build (shape checks), forward, backward, named params, summary, config |
//! | [`LayerConfig`], [`SequentialConfig`] | serde architecture, rebuilt by `LayerConfig::build` / `Sequential::from_config` |
//! | [`models`] | the reference mlp, cnn, xor and regression |
//! | [`gradcheck`] | finite-difference checks of layers and models |
//!
//! # Training step and the fused softmax / cross-entropy gradient
//!
//! A training loop (neurite-train) does, per batch:
//!
//! 1. `model.zero_grad()`;
//! 2. `let y = model.forward(x, Mode::Train)?` — the *output* (probabilities after a softmax);
//! 3. ask the loss for its gradient. If `loss.fused_activation()` (neurite-losses) equals
//!    `model.output_activation()` — a cross-entropy meeting the softmax (or sigmoid) it
//!    expects — the loss returns the gradient w.r.t. the **logits**, `(p - y) / N`, computed
//!    stably from `p` alone; call `model.backward_from_logits(d)`, which skips the last layer's
//!    activation. Otherwise the loss returns the gradient w.r.t. the output; call
//!    `model.backward(d)`. `Loss::loss_and_gradient` does the comparison and says which one it
//!    returned, so the loop itself has no special case;
//! 4. the optimizer walks `model.params_mut()` (skip `!p.is_trainable()`: BatchNorm state).
//!
//! # Buffers and allocation
//! Every layer owns its output, cache and gradient buffers and reallocates them only when the
//! batch size changes. `Sequential::backward` computes input gradients only above the first layer
//! with trainable parameters (a leading Flatten is not even visited).
//!
//! # Determinism
//! Layer `i` of a `Sequential` with seed `s` draws its initial weights and its dropout masks from
//! `Rng::with_stream(s, i)`; kernels use fixed work splits, so results do not depend on the
//! number of threads.
//!
//! # Parameters and model files
//! Parameters are [`neurite_tensor::Param`]s named `weight`, `bias` (Dense `[units, inputs]`,
//! Conv2D `[F, C, KH, KW]` and `[F]`, the ONNX/PyTorch layouts), `gamma`, `beta`, and the
//! non-trainable `moving_mean`, `moving_variance`. A model names them `<layer>.<param>`
//! (`dense_1.bias`): [`Sequential::params`], [`Sequential::param`], [`Sequential::set_param`].
//! Each layer states the shapes it will create ([`Layer::param_shapes`],
//! [`Sequential::param_shapes`]), which is how a model file (neurite-train's `model_file`,
//! beside the optimizer state) is checked before anything is allocated.

mod activation_layer;
mod batch_norm;
mod config;
mod conv2d;
mod debug;
mod dense;
mod dropout;
mod error;
pub mod footprint;
mod fusion;
pub mod gradcheck;
mod layer;
pub mod models;
mod pool;
mod reshape;
mod sequential;
mod sequential_params;
mod summary;

pub use activation_layer::{ActivationConfig, ActivationLayer};
pub use batch_norm::{BatchNormConfig, BatchNormalization};
pub use config::{CustomLayerConfig, LayerConfig};
pub use conv2d::{Conv2D, Conv2DConfig};
pub use dense::{Dense, DenseConfig};
pub use dropout::{Dropout, DropoutConfig};
pub use error::{LayerError, Result};
pub use footprint::{DEFAULT_MAX_BYTES, Footprint};
pub use layer::{Backward, Layer, Mode};
pub use neurite_tensor::Activation;
pub use pool::{AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D, NameConfig, Pool2DConfig};
pub use reshape::{Flatten, Reshape, ReshapeConfig};
pub use sequential::{Sequential, SequentialConfig};
pub use summary::{Summary, SummaryRow, thousands};
