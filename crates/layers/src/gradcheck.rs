//! Finite-difference gradient checks of layers and whole models; with the `testing` feature,
//! also the random cases that the test suite and `cargo xtask gradcheck` run
//! ([`layer_cases`], [`model_cases`]).
//!
//! A check drives the subject with a random upstream gradient `g` through `loss = sum(y * g)`,
//! compares the analytic gradient of every input and parameter entry (or a random sample of at
//! most `max_per_tensor` entries per tensor) with the five-point stencil of
//! [`neurite_tensor::gradcheck`], and reports the worst relative error. Steps that change a
//! ReLU sign or a pooling winner (detected by [`Layer::kink_fingerprint`]) are skipped and
//! counted; the per-layer cases construct their inputs so that this does not happen.

use ndarray::ArrayViewD;
use neurite_tensor::gradcheck::{GradCheck, STEP, five_point, pick_indices};
use neurite_tensor::{Param, Rng, Tensor};

use crate::{Backward, Layer, Mode, Result, Sequential};

// Test support, not part of the library proper: the case registry that the layer tests and
// `cargo xtask gradcheck` share.
#[cfg(feature = "testing")]
mod cases;
#[cfg(feature = "testing")]
pub use cases::{Case, layer_cases, model_cases, model_check_passed};

/// The positions of a subject's random streams (dropout masks), one per layer.
type Streams = Vec<Option<[u64; 6]>>;

/// What a gradient check needs from a layer or a model.
trait Subject {
    /// Where the random streams stand now.
    fn streams(&self) -> Streams;
    /// Train-mode forward with the random streams put back at `start`, so that every evaluation
    /// draws the same dropout masks; the output and the kink fingerprint.
    fn run(&mut self, x: ArrayViewD<'_, f64>, start: &Streams) -> Result<(Tensor<f64>, u64)>;
    /// Backward of `g` after zeroing gradients; the input gradient when the subject has one.
    fn back(&mut self, g: ArrayViewD<'_, f64>) -> Result<Option<Tensor<f64>>>;
    /// Parameters with display names.
    fn params_mut(&mut self) -> Vec<(String, &mut Param<f64>)>;
}

impl Subject for dyn Layer<f64> + '_ {
    fn streams(&self) -> Streams {
        vec![self.rng_state()]
    }

    fn run(&mut self, x: ArrayViewD<'_, f64>, start: &Streams) -> Result<(Tensor<f64>, u64)> {
        if let Some(Some(words)) = start.first() {
            self.set_rng_state(*words);
        }
        let y = self.forward(x, Mode::Train)?.to_owned();
        Ok((y, self.kink_fingerprint()))
    }

    fn back(&mut self, g: ArrayViewD<'_, f64>) -> Result<Option<Tensor<f64>>> {
        Layer::params_mut(self)
            .into_iter()
            .for_each(|p| p.zero_grad());
        self.backward(g, Backward::FULL)?;
        Ok(Some(self.input_grad().to_owned()))
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<f64>)> {
        let name = self.name().to_string();
        Layer::params_mut(self)
            .into_iter()
            .map(|p| (format!("{name}.{}", p.name()), p))
            .collect()
    }
}

impl Subject for Sequential<f64> {
    fn streams(&self) -> Streams {
        self.layers().iter().map(|l| l.rng_state()).collect()
    }

    fn run(&mut self, x: ArrayViewD<'_, f64>, start: &Streams) -> Result<(Tensor<f64>, u64)> {
        for (layer, words) in self.layers_mut().iter_mut().zip(start) {
            if let Some(words) = words {
                layer.set_rng_state(*words);
            }
        }
        let y = self.forward(x, Mode::Train)?.to_owned();
        // The layers' fingerprints combined: any layer's changed choice changes it.
        let kinks = self.layers().iter().map(|l| l.kink_fingerprint());
        Ok((y, crate::layer::fingerprint(kinks)))
    }

    fn back(&mut self, g: ArrayViewD<'_, f64>) -> Result<Option<Tensor<f64>>> {
        self.zero_grad();
        self.backward(g)?;
        // A model skips its first layer's input gradient; the layers' own checks cover it.
        Ok(None)
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<f64>)> {
        Sequential::params_mut(self)
    }
}

fn check<S: Subject + ?Sized>(
    subject: &mut S,
    input: &Tensor<f64>,
    rng: &mut Rng,
    max_per_tensor: usize,
    step: f64,
) -> Result<GradCheck> {
    let start = subject.streams();
    let (y, base) = subject.run(input.view(), &start)?;
    let g = Tensor::from_shape_simple_fn(y.raw_dim(), || rng.normal());
    let loss = |y: &Tensor<f64>| y.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>();
    let d_x = subject.back(g.view())?;
    let analytic: Vec<(String, Tensor<f64>)> = subject
        .params_mut()
        .into_iter()
        .filter(|(_, p)| p.is_trainable())
        .map(|(n, p)| (n, p.grad().clone()))
        .collect();
    let mut report = GradCheck::default();
    let mut failure = None;

    if let Some(d_x) = d_x {
        let mut x = input.clone();
        for i in pick_indices(x.len(), max_per_tensor, rng) {
            let original = x.as_slice().map_or(0.0, |s| s[i]);
            let numeric = five_point(step, |delta| {
                if let Some(v) = x.as_slice_mut().and_then(|s| s.get_mut(i)) {
                    *v = original + delta;
                }
                match subject.run(x.view(), &start) {
                    Ok((y, fp)) => (fp == base).then(|| loss(&y)),
                    Err(e) => {
                        failure.get_or_insert(e);
                        None
                    }
                }
            });
            if let Some(v) = x.as_slice_mut().and_then(|s| s.get_mut(i)) {
                *v = original;
            }
            let a = d_x.iter().nth(i).copied().unwrap_or(f64::NAN);
            report.record(|| format!("input[{i}]"), a, numeric);
        }
    }

    for (name, grad) in &analytic {
        for i in pick_indices(grad.len(), max_per_tensor, rng) {
            let set = |subject: &mut S, delta: f64, original: f64| {
                for (n, p) in subject.params_mut() {
                    if &n == name
                        && let Some(v) = p.value_mut().iter_mut().nth(i)
                    {
                        *v = original + delta;
                    }
                }
            };
            let original = subject
                .params_mut()
                .into_iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, p)| p.value().iter().nth(i).copied())
                .unwrap_or(f64::NAN);
            let numeric = five_point(step, |delta| {
                set(subject, delta, original);
                match subject.run(input.view(), &start) {
                    Ok((y, fp)) => (fp == base).then(|| loss(&y)),
                    Err(e) => {
                        failure.get_or_insert(e);
                        None
                    }
                }
            });
            set(subject, 0.0, original);
            let a = grad.iter().nth(i).copied().unwrap_or(f64::NAN);
            report.record(|| format!("{name}[{i}]"), a, numeric);
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Checks the input gradient and every trainable parameter gradient of a built layer at
/// `input` (in `Mode::Train`), comparing at most `max_per_tensor` random entries per tensor.
///
/// # Errors
/// Whatever the layer's forward or backward returns.
pub fn check_layer(
    layer: &mut dyn Layer<f64>,
    input: &Tensor<f64>,
    rng: &mut Rng,
    max_per_tensor: usize,
) -> Result<GradCheck> {
    check(layer, input, rng, max_per_tensor, STEP)
}

/// [`check_layer`] with another finite-difference step.
///
/// # Errors
/// Whatever the layer's forward or backward returns.
pub fn check_layer_with_step(
    layer: &mut dyn Layer<f64>,
    input: &Tensor<f64>,
    rng: &mut Rng,
    max_per_tensor: usize,
    step: f64,
) -> Result<GradCheck> {
    check(layer, input, rng, max_per_tensor, step)
}

/// Step for BatchNormalization: its output is a difference of nearly equal terms (`x - mean`),
/// so rounding noise, which grows as `1 / step`, dominates at [`STEP`]; its smoothness makes the
/// larger step's truncation error (`step^4`) negligible.
pub const BATCH_NORM_STEP: f64 = 1e-3;

/// Checks every trainable parameter gradient of a built model end to end at `input`.
///
/// The step is [`MODEL_STEP`], smaller than a single layer's: a model has thousands of ReLUs,
/// and the smaller step crosses fewer of their kinks (the five-point stencil keeps the
/// truncation error negligible; rounding noise grows as `1 / step` but stays far below the
/// tolerance for losses of order one).
///
/// # Errors
/// Whatever the model's forward or backward returns.
pub fn check_model(
    model: &mut Sequential<f64>,
    input: &Tensor<f64>,
    rng: &mut Rng,
    max_per_tensor: usize,
) -> Result<GradCheck> {
    check(model, input, rng, max_per_tensor, MODEL_STEP)
}

/// Finite-difference step of whole-model checks.
pub const MODEL_STEP: f64 = 1e-5;
