//! neurite-tensor: the tensor core every other neurite crate builds on.
//!
//! Tensors are plain [`ndarray`] arrays ([`Tensor<F>`] = `ArrayD<F>`), generic over [`Float`]
//! (f32 for training, f64 for gradient checks). Kernels take views and write into caller-owned
//! outputs, so training loops can reuse buffers between batches.
//!
//! Shape letters used throughout neurite: `N` batch, `C` channels, `H`/`W` height and width,
//! `F` filters (output channels), `KH`/`KW` kernel size, `OH`/`OW` output size, and `M`, `K`, `N`
//! for the rows, inner and columns of a matrix product.
//!
//! | module | what |
//! |---|---|
//! | [`gemm()`] | `C = a op(A) op(B) + b C`, split over rayon, deterministic |
//! | [`sgemm()`] | f32 AVX-512/AVX2 kernels, NCHW operands, fused bias and ReLU |
//! | [`im2col`], [`col2im`] | convolution as a matrix product, NCHW |
//! | [`max_pool2d`], [`avg_pool2d`] | pooling forward and backward |
//! | [`ConvReluPool`] | convolution + ReLU + 2x2 max pool in one pass (f32) |
//! | [`Activation`] | elementwise activations and derivatives |
//! | [`softmax`], [`log_softmax`] | stable along any axis |
//! | [`sum_axis`], [`argmax_axis`], ... | reductions |
//! | [`Rng`], [`Initializer`] | seeded portable randomness, Keras initializers |
//! | [`Param`] | a named value with its gradient |
//!
//! Unsafe code (the SIMD kernels) says next to every `unsafe` block why it is sound, and every
//! `unsafe fn` what its caller must guarantee; the lint below keeps it that way.

#![deny(clippy::undocumented_unsafe_blocks)]

mod activation;
mod conv;
mod conv_pool;
mod error;
mod float;
mod gemm;
pub mod gradcheck;
mod init;
mod param;
mod pool;
mod reduce;
mod rng;
mod setters;
mod sgemm;
mod softmax;
mod window;
mod winograd;

pub use activation::Activation;
pub use conv::{col2im, col2im_batch, col2im_wide, im2col, im2col_batch, im2col_wide};
pub use conv_pool::ConvReluPool;
pub use error::{Result, TensorError};
pub use float::Float;
pub use gemm::{Transpose, gemm, gemm_serial, matmul, sgemm_matrixmultiply};
pub use init::{Fans, Initializer};
pub use param::Param;
pub use pool::{
    avg_pool2d, avg_pool2d_backward, global_avg_pool2d, global_avg_pool2d_backward, max_pool2d,
    max_pool2d_backward,
};
pub use reduce::{argmax_axis, max_axis, mean_axis, min_axis, sum_axis, var_axis};
pub use rng::Rng;
pub use sgemm::{Bias, Epilogue, Kernel, MatMut, MatRef, sgemm, sgemm_serial, sgemm_with};
pub use softmax::{log_softmax, log_softmax_into, softmax, softmax_backward, softmax_into};
pub use window::{Padding, Window2d};
pub use winograd::Winograd;

/// A tensor of any rank: an owned, dynamically shaped ndarray array.
pub type Tensor<F> = ndarray::ArrayD<F>;
