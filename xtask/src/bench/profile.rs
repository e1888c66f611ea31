//! `bench train --profile`: where one training step's time goes, and one inference chunk's,
//! layer by layer.
//!
//! Runs the model's own forward and backward ([`Sequential::forward_observed`]: the same plan as
//! training, pairs of layers run as one pass included, which are reported as one row), or the
//! forward alone in inference mode, on a fixed random batch, and reports the mean per step over
//! timed steps after a few warm-up steps.

use std::ops::Range;
use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use neurite::layers::{Mode, Sequential};
use neurite::tensor::Rng;

/// Mean time of each step's forward and backward, in seconds.
pub struct Profile {
    /// `(layer names, forward s, backward s)`, input to output; two names joined by `+` for a
    /// pair that runs as one pass.
    pub layers: Vec<(String, f64, f64)>,
    /// Mean forward + backward time of the whole step.
    pub step: f64,
}

const WARMUP: usize = 3;

/// Profiles `model` on batches of `batch` MNIST-sized images over `steps` timed steps: forward
/// and backward (into the logits, as the fused softmax + cross-entropy does) for `Mode::Train`,
/// forward only for `Mode::Infer` (as `predict` runs it; the backward times are then zero).
pub fn profile(
    model: &mut Sequential<f32>,
    batch: usize,
    steps: usize,
    mode: Mode,
) -> anyhow::Result<Profile> {
    let mut rng = Rng::new(1);
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[batch, 1, 28, 28]), || rng.next_f32());
    let d_logits = ArrayD::<f32>::from_elem(IxDyn(&[batch, 10]), 0.01);
    let n = model.layers().len();
    // Time per step, keyed by the step's first layer; `names[i]` is the step's layers.
    let (mut fwd, mut bwd, mut total) = (vec![0.0; n], vec![0.0; n], 0.0);
    let mut names: Vec<Option<Range<usize>>> = vec![None; n];
    for step in 0..steps + WARMUP {
        let timed = step >= WARMUP;
        let start = Instant::now();
        let mut mark = Instant::now();
        let mut record = |times: &mut Vec<f64>, layers: Range<usize>| {
            if timed {
                let first = layers.start;
                times[first] += mark.elapsed().as_secs_f64();
                names[first] = Some(layers);
            }
            mark = Instant::now();
        };
        model.forward_observed(x.view(), mode, &mut |layers| record(&mut fwd, layers))?;
        if mode == Mode::Train {
            let mut record_bwd = |layers| record(&mut bwd, layers);
            model.backward_observed(d_logits.view(), true, &mut record_bwd)?;
        }
        if timed {
            total += start.elapsed().as_secs_f64();
        }
    }
    let steps = steps as f64;
    let layer_names: Vec<&str> = model.layers().iter().map(|l| l.name()).collect();
    Ok(Profile {
        layers: names
            .iter()
            .enumerate()
            .filter_map(|(i, range)| {
                let name = layer_names[range.clone()?].join("+");
                Some((name, fwd[i] / steps, bwd[i] / steps))
            })
            .collect(),
        step: total / steps,
    })
}

/// The profile as indented text lines.
pub fn print(title: &str, p: &Profile) {
    println!(
        "  {title}: {:.3} ms per forward + backward step",
        p.step * 1e3
    );
    for (name, f, b) in &p.layers {
        println!(
            "    {name:<24} forward {:>8.3} ms   backward {:>8.3} ms",
            f * 1e3,
            b * 1e3
        );
    }
}
