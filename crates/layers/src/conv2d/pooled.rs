//! A Conv2D with ReLU and the 2x2 max pool after it, run as one pass: [`ConvReluPool`] for
//! first convolutions, whose few input channels make the GEMM's K too short to pay for
//! writing, re-reading and gathering the full-size output; [`Winograd::forward_pooled`] for
//! the 3x3 convolutions the Winograd strategy takes, which then computes only the tiles under
//! a pooling window and writes one value per tile. A [`Sequential`] chooses it for such a pair
//! of layers in f32 (see `crate::fusion`).
//!
//! [`Sequential`]: crate::Sequential

use ndarray::{ArrayViewD, Ix4};
use neurite_tensor::{ConvReluPool, Float, Winograd};

use super::{Conv2D, bias_f32, bias_grad_f32, describe, input_grad_f32, weight_matrix};
use crate::error::TensorContext;
use crate::layer::check_grad;
use crate::{Activation, Backward, LayerError, MaxPooling2D, Mode, Result};

/// Window cells (`C * KH * KW`) up to which the direct pass beats the GEMM: past them the
/// GEMM's register tile, which reuses each loaded input for 8 filters, wins (the reference
/// CNN's second convolution has 288).
const MAX_TAPS: usize = 32;

/// What a fused pass keeps for backward.
#[derive(Debug, Default)]
pub(super) struct Pooled {
    op: ConvReluPool,
    /// How the last forward ran, if it was a fused training pass.
    pub(super) trained: Option<Fused>,
}

/// The operation a fused pass ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fused {
    /// [`ConvReluPool`], whose state the [`Pooled`] holds.
    Direct,
    /// [`Winograd::forward_pooled`], whose state the layer's Winograd pass holds.
    Winograd,
}

impl<F: Float> Conv2D<F> {
    /// The winners of the last fused training pass, for the gradient checks' kink detection.
    pub(super) fn fused_winners(&self) -> Option<&[f32]> {
        match self.pooled.trained? {
            Fused::Direct => Some(self.pooled.op.winners()),
            Fused::Winograd => Some(self.winograd.op.winners()),
        }
    }
}

impl<F: Float> Conv2D<F> {
    /// Runs this layer and `pool` as one pass when they fit [`ConvReluPool`] (ReLU, stride 1,
    /// at most [`MAX_TAPS`] window cells, f32, a 2x2 stride-2 pool), writing the pool's output.
    /// Returns `Ok(false)`, doing nothing, when they do not.
    ///
    /// # Errors
    /// As [`Layer::forward`](crate::Layer::forward).
    pub(crate) fn forward_pooled(
        &mut self,
        input: ArrayViewD<'_, F>,
        pool: &mut MaxPooling2D<F>,
        mode: Mode,
    ) -> Result<bool> {
        self.pooled.trained = None;
        self.winograd.trained = false;
        if self.cfg.activation != Activation::Relu || !pool.is_2x2_stride_2() {
            return Ok(false);
        }
        let g = self.geometry(input.shape())?;
        let weight = weight_matrix(self.weight.value());
        let by = if ConvReluPool::supports(&g.win) && weight.ncols() <= MAX_TAPS {
            Fused::Direct
        } else if super::winograd::enabled() && Winograd::pays_off(&g.win, g.c, g.f) {
            Fused::Winograd
        } else {
            return Ok(false);
        };
        let x = input.into_dimensionality::<Ix4>().expect("rank checked");
        let (Some(x), Some(weight)) = (F::as_f32(x), F::as_f32(weight)) else {
            return Ok(false);
        };
        let bias = bias_f32(&self.bias);
        let shape = [g.n, g.f, g.win.out_h / 2, g.win.out_w / 2];
        let out = pool.output_of_fused_pass(shape).view_mut();
        let out = out.into_dimensionality::<Ix4>().expect("4-D");
        let out = F::as_f32_mut(out).expect("f32 like the input");
        let train = mode == Mode::Train;
        let ran = match by {
            Fused::Direct => self.pooled.op.forward(x, weight, bias, &g.win, out, train),
            Fused::Winograd => self
                .winograd
                .op
                .forward_pooled(x, weight, bias, &g.win, out, train),
        };
        ran.in_layer(|| describe(&self.cfg))?;
        self.pooled.trained = train.then_some(by);
        // This layer's own output is never written: drop it rather than keep a stale one.
        self.bufs.y = ndarray::Array4::zeros((0, 0, 0, 0));
        self.cached = false;
        Ok(true)
    }

    /// Backward through the pass of [`Conv2D::forward_pooled`]: adds the weight and bias
    /// gradients and, when asked, writes the input gradient, from the gradient of the pool's
    /// output.
    ///
    /// # Errors
    /// [`LayerError::NoForwardCache`] when the last forward was not a fused training pass, or
    /// a shape error.
    pub(crate) fn backward_pooled(
        &mut self,
        d_pooled: ArrayViewD<'_, F>,
        opts: Backward,
    ) -> Result<()> {
        let describe = || describe(&self.cfg);
        let Some(by) = self.pooled.trained else {
            return Err(LayerError::NoForwardCache { layer: describe() });
        };
        let (sample, _) = self.built.expect("a fused pass implies built");
        let want = match by {
            Fused::Direct => self.pooled.op.pooled_shape(),
            Fused::Winograd => self.winograd.op.pooled_shape(),
        };
        let want = want.expect("a fused training pass keeps its shape");
        check_grad(&describe, d_pooled.shape(), &want)?;
        let d_pooled = d_pooled
            .into_dimensionality::<Ix4>()
            .expect("shape checked");
        let d_pooled = F::as_f32(d_pooled).expect("a fused pass runs in f32");
        let (weight, d_w) = self.weight.value_and_grad_mut();
        let (f, ckk) = (want[1], weight.len() / want[1].max(1));
        let weight = weight.view().into_shape_with_order((f, ckk));
        let weight = F::as_f32(weight.expect("standard layout")).expect("f32");
        let d_w = d_w.view_mut().into_shape_with_order((f, ckk));
        let d_w = F::as_f32_mut(d_w.expect("standard layout")).expect("f32");
        let d_b = bias_grad_f32(&mut self.bias);
        let shape = [want[0], sample[0], sample[1], sample[2]];
        let d_x = input_grad_f32(&mut self.bufs.d_x, shape, opts.need_input_grad);
        match by {
            Fused::Direct => self.pooled.op.backward(d_pooled, weight, d_w, d_b, d_x),
            Fused::Winograd => self.winograd.op.backward_pooled(d_pooled, d_w, d_b, d_x),
        }
        .in_layer(describe)
    }
}
