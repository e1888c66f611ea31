//! neurite-tensor: the tensor core every other neurite crate builds on.
//!
//! Tensors are plain [`ndarray`] arrays ([`Tensor<F>`] = `ArrayD<F>`), generic over [`Float`]
//! (f32 for training, f64 for gradient checks). Kernels take views and write into caller-owned
//! outputs, so training loops can reuse buffers between batches.
//!
//! Shape letters used throughout neurite: `N` batch, `C` channels, `H`/`W` height and width,
//! `F` filters (output channels), `K` kernel size, `M` rows of a matrix product.

mod error;
mod float;
mod param;
mod rng;

pub use error::{Result, TensorError};
pub use float::Float;
pub use param::Param;
pub use rng::Rng;

/// A tensor of any rank: an owned, dynamically shaped ndarray array.
pub type Tensor<F> = ndarray::ArrayD<F>;
