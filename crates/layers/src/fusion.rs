//! Pairs of adjacent layers that a [`Sequential`](crate::Sequential) runs as one pass.
//!
//! Today one pair: a Conv2D with ReLU followed by a 2x2 stride-2 MaxPooling2D, in f32, for
//! convolutions with few window cells (the first layer of an image model); see
//! `conv2d/pooled.rs`. The convolution writes the pool's output and keeps the winners; in
//! backward it takes the gradient of the pool's output and the pool is skipped. Neither
//! layer's own output or cache is then valid: `output()` of the convolution is empty and the
//! pool's own `backward` reports a missing forward pass.

use std::any::Any;

use ndarray::ArrayViewD;
use neurite_tensor::Float;

use crate::{Backward, Conv2D, Layer, MaxPooling2D, Mode, Result};

/// The pair as their concrete types, if it is a convolution followed by a max pool.
fn conv_and_pool<'a, F: Float>(
    first: &'a mut dyn Layer<F>,
    second: &'a mut dyn Layer<F>,
) -> Option<(&'a mut Conv2D<F>, &'a mut MaxPooling2D<F>)> {
    let conv = (first as &mut dyn Any).downcast_mut::<Conv2D<F>>()?;
    let pool = (second as &mut dyn Any).downcast_mut::<MaxPooling2D<F>>()?;
    Some((conv, pool))
}

/// Runs `first` and `second` on `input` as one pass if they form a pair that has one; returns
/// whether it did (if not, nothing ran).
///
/// # Errors
/// As [`Layer::forward`].
pub(crate) fn forward_pair<F: Float>(
    first: &mut dyn Layer<F>,
    second: &mut dyn Layer<F>,
    input: ArrayViewD<'_, F>,
    mode: Mode,
) -> Result<bool> {
    match conv_and_pool(first, second) {
        Some((conv, pool)) => conv.forward_pooled(input, pool, mode),
        None => Ok(false),
    }
}

/// Backward through a pair that [`forward_pair`] ran as one pass, from the gradient of the
/// pair's output; `first`'s `input_grad` then holds the pair's input gradient (the second layer
/// takes no part: the first kept what both need).
///
/// # Errors
/// As [`Layer::backward`].
pub(crate) fn backward_pair<F: Float>(
    first: &mut dyn Layer<F>,
    d_output: ArrayViewD<'_, F>,
    opts: Backward,
) -> Result<()> {
    let conv = (first as &mut dyn Any).downcast_mut::<Conv2D<F>>();
    conv.expect("the first layer of a pair that ran as one pass")
        .backward_pooled(d_output, opts)
}
