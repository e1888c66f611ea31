//! `BatchNormalization` over axis 1 (features of `[N, F]`, channels of `[N, C, H, W]`).
//!
//! Train: normalise with the batch mean and (biased) variance over every axis but 1, then
//! `y = gamma * x_hat + beta`, and move the running statistics
//! `moving = momentum * moving + (1 - momentum) * batch` (Keras' definition, biased variance).
//! Infer: normalise with the running statistics.
//!
//! Backward (per channel, `M` values): `d_x = gamma / (M * std) * (M d_y - sum(d_y) - x_hat *
//! sum(d_y x_hat))`, `d_gamma += sum(d_y x_hat)`, `d_beta += sum(d_y)`.

use ndarray::{ArrayViewD, Axis, Ix3, Zip};
use neurite_tensor::{Float, Param, Rng, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::fmt_batch_shape;
use crate::footprint::product;
use crate::layer::{check_backward, check_batch, empty, ensure_shape, layer_identity};
use crate::{Backward, Footprint, Layer, LayerError, Mode, Result};

/// Hyper-parameters of [`BatchNormalization`] (Keras names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchNormConfig {
    /// Layer name (empty: a `Sequential` assigns `batch_normalization`, ...).
    pub name: String,
    /// Weight of the old running statistics in each update (0.99).
    pub momentum: f64,
    /// Added to the variance before the square root (1e-3).
    pub epsilon: f64,
}

impl BatchNormConfig {
    /// The parameters and state a BatchNormalization layer creates for `input_shape` =
    /// `[C, ...]`: `gamma`, `beta`, `moving_mean` and `moving_variance`, each `[C]`.
    pub fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        let channels = input_shape.first().copied().unwrap_or(0);
        ["gamma", "beta", "moving_mean", "moving_variance"]
            .into_iter()
            .map(|name| (name, vec![channels]))
            .collect()
    }
}

/// Batch normalization with learned scale `gamma` and offset `beta`.
///
/// # Shapes
/// input `[N, C, ...]`, output of the same shape; `gamma`, `beta`, `moving_mean`,
/// `moving_variance` are `[C]` (the last two are non-trainable state).
pub struct BatchNormalization<F: Float> {
    cfg: BatchNormConfig,
    input: Option<Vec<usize>>,
    gamma: Param<F>,
    beta: Param<F>,
    moving_mean: Param<F>,
    moving_variance: Param<F>,
    /// Normalised input (Train only), `[N, C, S]`-shaped like the input.
    x_hat: Tensor<F>,
    inv_std: Vec<F>,
    y: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> Default for BatchNormalization<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> BatchNormalization<F> {
    /// Keras' defaults: momentum 0.99, epsilon 1e-3.
    pub fn new() -> Self {
        Self::from_config(BatchNormConfig {
            name: String::new(),
            momentum: 0.99,
            epsilon: 1e-3,
        })
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: BatchNormConfig) -> Self {
        BatchNormalization {
            cfg,
            input: None,
            gamma: Param::new("gamma", empty()),
            beta: Param::new("beta", empty()),
            moving_mean: Param::non_trainable("moving_mean", empty()),
            moving_variance: Param::non_trainable("moving_variance", empty()),
            x_hat: empty(),
            inv_std: Vec::new(),
            y: empty(),
            d_x: empty(),
            cached: false,
        }
    }

    neurite_tensor::builder_setters! {
        in cfg;
        /// Sets the momentum of the running statistics.
        momentum: f64,
        /// Sets epsilon.
        epsilon: f64,
    }
}

/// `[N, C, rest...]` seen as `[N, C, S]`.
fn as_ncs(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

fn describe(cfg: &BatchNormConfig) -> String {
    format!("BatchNormalization '{}'", cfg.name)
}

impl<F: Float> Layer<F> for BatchNormalization<F> {
    layer_identity!(
        "BatchNormalization",
        "batch_normalization",
        BatchNormalization
    );

    fn describe(&self) -> String {
        describe(&self.cfg)
    }

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        let invalid = |name, value: f64, reason: &str| LayerError::Config {
            layer: self.describe(),
            name,
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if !(0.0..=1.0).contains(&self.cfg.momentum) {
            return Err(invalid("momentum", self.cfg.momentum, "must be in [0, 1]"));
        }
        if !(self.cfg.epsilon > 0.0 && self.cfg.epsilon.is_finite()) {
            return Err(invalid("epsilon", self.cfg.epsilon, "must be positive"));
        }
        if input_shape.is_empty() || input_shape[0] == 0 {
            return Err(LayerError::Shape {
                layer: self.describe(),
                expected: String::from("[batch, channels, ...] with at least one channel"),
                got: fmt_batch_shape(input_shape),
                hint: String::from("BatchNormalization normalises axis 1"),
            });
        }
        Ok(input_shape.to_vec())
    }

    fn footprint(&self, input_shape: &[usize], output_shape: &[usize]) -> Footprint {
        // gamma, beta, moving mean and moving variance, one per channel.
        let channels = input_shape.first().map_or(0, |&c| c as u128);
        Footprint {
            params: channels.saturating_mul(4),
            per_sample: product(output_shape),
        }
    }

    fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        self.cfg.param_shapes(input_shape)
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        let c = input_shape[0];
        if self.gamma.len() != c {
            self.gamma = Param::new("gamma", Tensor::ones(vec![c]));
            self.beta = Param::new("beta", Tensor::zeros(vec![c]));
            self.moving_mean = Param::non_trainable("moving_mean", Tensor::zeros(vec![c]));
            self.moving_variance = Param::non_trainable("moving_variance", Tensor::ones(vec![c]));
        }
        self.input = Some(input_shape.to_vec());
        self.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let describe = || describe(&self.cfg);
        let sample = self
            .input
            .as_ref()
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), sample)?;
        let (n, c, s) = as_ncs(input.shape());
        ensure_shape(&mut self.y, input.shape());
        // Copies only if the caller passed a non-standard layout.
        let x = input.as_standard_layout();
        let x = x
            .view()
            .into_shape_with_order((n, c, s))
            .expect("standard layout");
        let mut y = self
            .y
            .view_mut()
            .into_shape_with_order((n, c, s))
            .expect("standard");
        let (gamma, beta) = (self.gamma.value(), self.beta.value());
        let eps = F::from_f64(self.cfg.epsilon);
        self.cached = mode == Mode::Train;
        if mode == Mode::Infer {
            let (mean, var) = (self.moving_mean.value(), self.moving_variance.value());
            for ch in 0..c {
                let scale = gamma[ch] / (var[ch] + eps).sqrt();
                let shift = beta[ch] - mean[ch] * scale;
                Zip::from(y.index_axis_mut(Axis(1), ch))
                    .and(x.index_axis(Axis(1), ch))
                    .for_each(|y, &x| *y = x * scale + shift);
            }
            return Ok(self.y.view());
        }
        ensure_shape(&mut self.x_hat, &[n, c, s]);
        let mut x_hat = self
            .x_hat
            .view_mut()
            .into_dimensionality::<Ix3>()
            .expect("3-D");
        self.inv_std.resize(c, F::zero());
        let count = F::from_usize(n * s);
        let momentum = F::from_f64(self.cfg.momentum);
        for ch in 0..c {
            let xc = x.index_axis(Axis(1), ch);
            let mean = xc.sum() / count;
            let var = xc.iter().map(|&v| (v - mean) * (v - mean)).sum::<F>() / count;
            let inv_std = F::one() / (var + eps).sqrt();
            self.inv_std[ch] = inv_std;
            Zip::from(x_hat.index_axis_mut(Axis(1), ch))
                .and(y.index_axis_mut(Axis(1), ch))
                .and(xc)
                .for_each(|h, y, &x| {
                    *h = (x - mean) * inv_std;
                    *y = gamma[ch] * *h + beta[ch];
                });
            let mm = &mut self.moving_mean.value_mut()[ch];
            *mm = *mm * momentum + mean * (F::one() - momentum);
            let mv = &mut self.moving_variance.value_mut()[ch];
            *mv = *mv * momentum + var * (F::one() - momentum);
        }
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let describe = || describe(&self.cfg);
        check_backward(&describe, self.cached, d_output.shape(), self.y.shape())?;
        let (n, c, s) = as_ncs(d_output.shape());
        let d_y = d_output.as_standard_layout();
        let d_y = d_y
            .view()
            .into_shape_with_order((n, c, s))
            .expect("standard layout");
        let x_hat = self.x_hat.view().into_dimensionality::<Ix3>().expect("3-D");
        if opts.need_input_grad {
            ensure_shape(&mut self.d_x, self.y.shape());
        }
        let mut d_x = self.d_x.view_mut();
        let mut d_x = opts.need_input_grad.then(|| {
            d_x.view_mut()
                .into_shape_with_order((n, c, s))
                .expect("standard")
        });
        let count = F::from_usize(n * s);
        for ch in 0..c {
            let (dyc, hc) = (d_y.index_axis(Axis(1), ch), x_hat.index_axis(Axis(1), ch));
            let sum_dy = dyc.sum();
            let sum_dy_xhat: F = Zip::from(&dyc)
                .and(&hc)
                .fold(F::zero(), |a, &d, &h| a + d * h);
            self.gamma.grad_mut()[ch] += sum_dy_xhat;
            self.beta.grad_mut()[ch] += sum_dy;
            if let Some(d_x) = d_x.as_mut() {
                let k = self.gamma.value()[ch] * self.inv_std[ch] / count;
                Zip::from(d_x.index_axis_mut(Axis(1), ch))
                    .and(&dyc)
                    .and(&hc)
                    .for_each(|dx, &d, &h| *dx = k * (count * d - sum_dy - h * sum_dy_xhat));
            }
        }
        Ok(())
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
    }

    fn params(&self) -> Vec<&Param<F>> {
        vec![
            &self.gamma,
            &self.beta,
            &self.moving_mean,
            &self.moving_variance,
        ]
    }

    fn params_mut(&mut self) -> Vec<&mut Param<F>> {
        vec![
            &mut self.gamma,
            &mut self.beta,
            &mut self.moving_mean,
            &mut self.moving_variance,
        ]
    }
}
