//! `bench train --profile`: where one training step's time goes, and one inference chunk's,
//! layer by layer.
//!
//! Runs forward and backward (as `Sequential` does: no input gradient below the first
//! trainable layer, the fused softmax gradient into the last), or forward alone in inference
//! mode, on a fixed random batch, and reports the mean per layer over timed steps after a few
//! warm-up steps.

use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use neurite::layers::{Backward, Mode, Sequential};
use neurite::tensor::Rng;

/// Mean time of each layer's forward and backward, in seconds.
pub struct Profile {
    /// `(layer name, forward s, backward s)`, input to output.
    pub layers: Vec<(String, f64, f64)>,
    /// Mean forward + backward time of the whole step.
    pub step: f64,
}

const WARMUP: usize = 3;

/// Profiles `model` on batches of `batch` MNIST-sized images over `steps` timed steps: forward
/// and backward for `Mode::Train`, forward only for `Mode::Infer` (as `predict` runs it; the
/// backward times are then zero).
pub fn profile(
    model: &mut Sequential<f32>,
    batch: usize,
    steps: usize,
    mode: Mode,
) -> anyhow::Result<Profile> {
    let mut rng = Rng::new(1);
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[batch, 1, 28, 28]), || rng.next_f32());
    let d_logits = ArrayD::<f32>::from_elem(IxDyn(&[batch, 10]), 0.01);
    let layers = model.layers_mut();
    let n = layers.len();
    let first_trainable = match mode {
        Mode::Train => layers
            .iter()
            .position(|l| !l.params().is_empty())
            .unwrap_or(0),
        // No backward pass at all.
        Mode::Infer => n,
    };
    let (mut fwd, mut bwd, mut total) = (vec![0.0; n], vec![0.0; n], 0.0);
    for step in 0..steps + WARMUP {
        let timed = step >= WARMUP;
        let start = Instant::now();
        for i in 0..n {
            let t = Instant::now();
            let (done, rest) = layers.split_at_mut(i);
            let input = if i == 0 {
                x.view()
            } else {
                done[i - 1].output()
            };
            rest[0].forward(input, mode)?;
            if timed {
                fwd[i] += t.elapsed().as_secs_f64();
            }
        }
        for i in (first_trainable..n).rev() {
            let t = Instant::now();
            let (left, right) = layers.split_at_mut(i + 1);
            let d_out = if i == n - 1 {
                d_logits.view()
            } else {
                right[0].input_grad()
            };
            let opts = Backward {
                need_input_grad: i > first_trainable,
                from_logits: i == n - 1,
            };
            left[i].backward(d_out, opts)?;
            if timed {
                bwd[i] += t.elapsed().as_secs_f64();
            }
        }
        if timed {
            total += start.elapsed().as_secs_f64();
        }
    }
    let steps = steps as f64;
    Ok(Profile {
        layers: layers
            .iter()
            .zip(fwd.iter().zip(&bwd))
            .map(|(l, (f, b))| (l.name().to_string(), f / steps, b / steps))
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
            "    {name:<16} forward {:>8.3} ms   backward {:>8.3} ms",
            f * 1e3,
            b * 1e3
        );
    }
}
