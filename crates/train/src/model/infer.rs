//! `Model::evaluate` and `predict`, and [`predict`] for a bare network, in cache-sized chunks.

use std::sync::PoisonError;

use ndarray::{Array2, ArrayViewD, Axis, Ix2, IxDyn, Slice};
use neurite_layers::{Mode, Sequential};
use neurite_metrics::Score;
use neurite_tensor::{Float, Tensor};

use super::{Evaluation, Model, check_pair, update_metrics};
use crate::config::DEFAULT_BATCH_SIZE;
use crate::parallel_predict::{inference_copy, predict_in_parallel};
use crate::{AsSamples, AsTargets, Result, TrainError};

impl<F: Float + Score> Model<F> {
    /// Loss and metrics on `(x, y)` in inference mode (Keras `evaluate`), in batches of
    /// `batch_size` (`None`: 32, as in Keras). `x` and `y` take the forms `fit` takes.
    ///
    /// # Errors
    /// Shapes that do not fit, bad targets, or a batch size of 0.
    pub fn evaluate<X, Y>(
        &mut self,
        x: &X,
        y: &Y,
        batch_size: impl Into<Option<usize>>,
    ) -> Result<Evaluation>
    where
        X: AsSamples<F> + ?Sized,
        Y: AsTargets<F> + ?Sized,
    {
        let batch_size = batch_size.into().unwrap_or(DEFAULT_BATCH_SIZE);
        self.evaluate_views(x.samples(), y.targets().view(), batch_size)
    }

    pub(super) fn evaluate_views(
        &mut self,
        x: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        batch_size: usize,
    ) -> Result<Evaluation> {
        check_pair("Model::evaluate", &x, &y)?;
        if batch_size == 0 {
            return Err(TrainError::invalid(
                "Model::evaluate",
                "batch_size must be at least 1",
            ));
        }
        self.metrics.iter_mut().for_each(|m| m.reset());
        let n = x.len_of(Axis(0));
        let mut loss_sum = 0.0;
        for start in (0..n).step_by(batch_size) {
            let rows = Slice::from(start..(start + batch_size).min(n));
            let (xb, yb) = (x.slice_axis(Axis(0), rows), y.slice_axis(Axis(0), rows));
            let batch = xb.len_of(Axis(0));
            let output = self.network.forward(xb, Mode::Infer)?;
            let loss = self.loss.loss(output.view(), yb.view())?.as_f64();
            loss_sum += loss * batch as f64;
            update_metrics(&mut self.metrics, &mut self.labels, output, yb)?;
        }
        Ok(Evaluation {
            loss: loss_sum / n as f64,
            metrics: self.metric_results(),
        })
    }

    /// The network's outputs for `x` in inference mode (Keras `predict`), as `[N, outputs]`
    /// rows (probabilities for a softmax classifier). `batch_size` only bounds how many
    /// samples run together (`None`: chunks sized for the CPU caches); the values do not
    /// depend on it. Takes `&self`: the model runs a copy of its network, made at the first
    /// prediction after a change of weights.
    ///
    /// # Errors
    /// Shapes that do not fit, a batch size of 0, or a network whose output has more than one
    /// axis per sample (use [`Model::predict_tensor`]).
    pub fn predict<X>(&self, x: &X, batch_size: impl Into<Option<usize>>) -> Result<Array2<F>>
    where
        X: AsSamples<F> + ?Sized,
    {
        let out = self.network.output_shape().unwrap_or(&[]);
        if out.len() != 1 {
            return Err(TrainError::invalid(
                "Model::predict",
                format!(
                    "the network's output per sample has shape {out:?}, not [outputs]: use predict_tensor"
                ),
            ));
        }
        self.predict_tensor(x, batch_size)?
            .into_dimensionality::<Ix2>()
            .map_err(|e| TrainError::invalid("Model::predict", e.to_string()))
    }

    /// [`Model::predict`] for outputs of any rank: `[N, ..output]`.
    ///
    /// # Errors
    /// Shapes that do not fit, or a batch size of 0.
    pub fn predict_tensor<X>(
        &self,
        x: &X,
        batch_size: impl Into<Option<usize>>,
    ) -> Result<Tensor<F>>
    where
        X: AsSamples<F> + ?Sized,
    {
        let batch_size = batch_size.into().unwrap_or(usize::MAX);
        let mut copy = self
            .inference
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if copy.is_none() {
            *copy = Some(inference_copy(&self.network)?);
        }
        let Some(network) = copy.as_mut() else {
            return Err(TrainError::invalid("Model::predict", "no network copy"));
        };
        predict(network, x, batch_size)
    }
}

/// [`Model::predict_tensor`] for a bare network, in chunks of at most `batch_size` samples
/// (`usize::MAX`: chunks sized for the caches).
///
/// # Errors
/// Shapes that do not fit, or `batch_size == 0`.
pub fn predict<F: Float, X: AsSamples<F> + ?Sized>(
    network: &mut Sequential<F>,
    x: &X,
    batch_size: usize,
) -> Result<Tensor<F>> {
    let x = x.samples();
    if batch_size == 0 {
        return Err(TrainError::invalid(
            "predict",
            "batch_size must be at least 1",
        ));
    }
    if x.ndim() == 0 {
        return Err(TrainError::invalid("predict", "x needs a batch axis"));
    }
    let n = x.len_of(Axis(0));
    let Some(out_shape) = network.output_shape().map(<[usize]>::to_vec) else {
        return Err(TrainError::invalid("predict", "the network is not built"));
    };
    let mut shape = vec![n];
    shape.extend_from_slice(&out_shape);
    let mut result = Tensor::zeros(IxDyn(&shape));
    // Inference treats every sample on its own, so running a large batch as chunks that keep
    // each layer's activations in cache gives the same values, faster; on several threads,
    // each with its own copy of the network and its own chunks, when that applies.
    let serial_chunk = inference_chunk(network);
    let largest = largest_output(network);
    if predict_in_parallel(
        network,
        x.view(),
        largest,
        batch_size,
        serial_chunk,
        &mut result,
    )? {
        return Ok(result);
    }
    let chunk = batch_size.min(serial_chunk);
    for start in (0..n).step_by(chunk) {
        let rows = Slice::from(start..(start + chunk).min(n));
        let output = network.forward(x.slice_axis(Axis(0), rows), Mode::Infer)?;
        result.slice_axis_mut(Axis(0), rows).assign(&output);
    }
    Ok(result)
}

/// The largest layer output of one forward chunk in [`predict`], in values: 1.5 M f32 values
/// (6 MB) stay within the caches of current CPUs, where a batch of 1000 MNIST images through
/// the reference CNN's first convolution (87 MB) would stream through memory.
const INFERENCE_CHUNK_VALUES: usize = 3 << 19;

/// Samples per forward chunk of [`predict`]: as many as keep the largest layer output within
/// 1.5 M values, 6 MB of f32 (72 for the reference CNN, about 2000 for the MLP), at least 16.
pub fn inference_chunk<F: Float>(network: &Sequential<F>) -> usize {
    (INFERENCE_CHUNK_VALUES / largest_output(network)).max(16)
}

/// The largest per-sample layer output (or input) of the network, in values, at least 1.
fn largest_output<F: Float>(network: &Sequential<F>) -> usize {
    let input = network.input_shape().unwrap_or(&[]);
    std::iter::once(input)
        .chain(
            network
                .output_shapes(input)
                .iter()
                .flatten()
                .map(Vec::as_slice),
        )
        .map(|shape| shape.iter().product::<usize>())
        .max()
        .unwrap_or(1)
        .max(1)
}
