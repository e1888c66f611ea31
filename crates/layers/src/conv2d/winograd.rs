//! A Conv2D by Winograd's F(2x2, 3x3) ([`Winograd`]): the strategy for 3x3 stride-1
//! convolutions in f32, ReLU or linear, with channels and filters enough to fill vectors and an
//! output whose tiles save at least 40 % of the multiplications (the reference CNN's second
//! convolution, `[32, 13, 13] -> [64, 11, 11]`, needs 576 per channel pair instead of 1089).
//!
//! Set `NEURITE_CONV=im2col` to turn it off and compare with the GEMM strategy.

use std::sync::OnceLock;

use ndarray::{ArrayView4, ArrayViewD, Ix4};
use neurite_tensor::{Float, Winograd};

use super::im2col_gemm::{Geometry, resize};
use super::{Conv2D, bias_f32, bias_grad_f32, describe, input_grad_f32, weight_matrix};
use crate::error::TensorContext;
use crate::{Activation, Backward, Mode, Result};

/// Names the convolution strategy to force: `im2col` turns Winograd off.
pub const CONV_ENV: &str = "NEURITE_CONV";

/// What a Winograd pass keeps for backward.
#[derive(Debug, Default)]
pub(super) struct WinogradPass {
    pub(super) op: Winograd,
    /// Whether the last forward was a Winograd training pass (whose state `op` holds).
    pub(super) trained: bool,
}

pub(super) fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var(CONV_ENV).map_or(true, |v| v != "im2col"))
}

impl<F: Float> Conv2D<F> {
    /// Runs forward by Winograd into `self.bufs.y` when the layer fits it; returns `Ok(false)`,
    /// doing nothing, when it does not.
    pub(super) fn forward_winograd(
        &mut self,
        g: &Geometry,
        x: ArrayView4<'_, F>,
        mode: Mode,
    ) -> Result<bool> {
        self.winograd.trained = false;
        let relu = match self.cfg.activation {
            Activation::Relu => true,
            Activation::Linear => false,
            _ => return Ok(false),
        };
        if !enabled() || !Winograd::pays_off(&g.win, g.c, g.f) {
            return Ok(false);
        }
        let weight = weight_matrix(self.weight.value());
        let (Some(x), Some(weight)) = (F::as_f32(x), F::as_f32(weight)) else {
            return Ok(false);
        };
        let bias = bias_f32(&self.bias);
        resize(
            &mut self.bufs.y,
            ndarray::Dim([g.n, g.f, g.win.out_h, g.win.out_w]),
        );
        let y = F::as_f32_mut(self.bufs.y.view_mut()).expect("f32 like the input");
        let train = mode == Mode::Train;
        self.winograd
            .op
            .forward(x, weight, bias, relu, &g.win, y, train)
            .in_layer(|| describe(&self.cfg))?;
        self.winograd.trained = train;
        Ok(true)
    }

    /// Backward through the pass of [`Conv2D::forward_winograd`]: adds the weight and bias
    /// gradients and, when asked, writes `self.bufs.d_x`.
    pub(super) fn backward_winograd(
        &mut self,
        g: &Geometry,
        d_y: ArrayViewD<'_, F>,
        opts: Backward,
    ) -> Result<()> {
        let d_y = d_y.into_dimensionality::<Ix4>().expect("shape checked");
        let d_y = F::as_f32(d_y).expect("a Winograd pass runs in f32");
        // `from_logits`: the gradient is already w.r.t. the pre-activation.
        let relu = self.cfg.activation == Activation::Relu && !opts.from_logits;
        let relu_output = relu.then(|| F::as_f32(self.bufs.y.view()).expect("f32"));
        let (weight, d_w) = self.weight.value_and_grad_mut();
        let ckk = weight.len() / g.f.max(1);
        let d_w = d_w.view_mut().into_shape_with_order((g.f, ckk));
        let d_w = F::as_f32_mut(d_w.expect("standard layout")).expect("f32");
        let d_b = bias_grad_f32(&mut self.bias);
        let shape = [g.n, g.c, g.win.in_h, g.win.in_w];
        let d_x = input_grad_f32(&mut self.bufs.d_x, shape, opts.need_input_grad);
        self.winograd
            .op
            .backward(d_y, relu_output, d_w, d_b, d_x)
            .in_layer(|| describe(&self.cfg))
    }
}
