//! Rough timing of one training step's forward + backward (no optimizer) for the reference mlp
//! (batch 32) and cnn (batch 64), with a per-layer breakdown. Not a benchmark harness: run with
//! `cargo run --release -p neurite-layers --example step_timing` and read the numbers.

use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use neurite_layers::{Backward, Mode, Sequential, models};
use neurite_tensor::Rng;

fn time_model(name: &str, mut model: Sequential<f32>, batch: usize, steps: usize) {
    let mut rng = Rng::new(1);
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[batch, 1, 28, 28]), || rng.next_f32());
    let d = ArrayD::<f32>::from_elem(IxDyn(&[batch, 10]), 0.01);
    let n = model.layers().len();
    let mut fwd = vec![0.0f64; n];
    let mut bwd = vec![0.0f64; n];
    let mut total = 0.0;
    for step in 0..steps + 3 {
        let start = Instant::now();
        let layers = model.layers_mut();
        for i in 0..n {
            let t = Instant::now();
            let (done, rest) = layers.split_at_mut(i);
            let input = if i == 0 {
                x.view()
            } else {
                done[i - 1].output()
            };
            rest[0].forward(input, Mode::Train).unwrap();
            if step >= 3 {
                fwd[i] += t.elapsed().as_secs_f64();
            }
        }
        // As Sequential::backward: nothing below the first trainable layer needs a gradient.
        let first = layers
            .iter()
            .position(|l| !l.params().is_empty())
            .unwrap_or(0);
        for i in (first..n).rev() {
            let t = Instant::now();
            let (left, right) = layers.split_at_mut(i + 1);
            let d_out = if i == n - 1 {
                d.view()
            } else {
                right[0].input_grad()
            };
            let opts = Backward {
                need_input_grad: i > first,
                from_logits: i == n - 1,
            };
            left[i].backward(d_out, opts).unwrap();
            if step >= 3 {
                bwd[i] += t.elapsed().as_secs_f64();
            }
        }
        if step >= 3 {
            total += start.elapsed().as_secs_f64();
        }
    }
    let per_step = total / steps as f64;
    let epoch = per_step * (60_000.0 / batch as f64);
    println!(
        "{name}: batch {batch}, {:.3} ms per forward+backward, {:.2} s per 60k-sample epoch (threads: {})",
        per_step * 1e3,
        epoch,
        rayon::current_num_threads()
    );
    for (i, layer) in model.layers().iter().enumerate() {
        println!(
            "  {:<16} forward {:>8.3} ms  backward {:>8.3} ms",
            layer.name(),
            fwd[i] / steps as f64 * 1e3,
            bwd[i] / steps as f64 * 1e3
        );
    }
}

fn main() {
    time_model("mlp", models::mlp(0), 32, 400);
    time_model("cnn", models::cnn(0), 64, 40);
}
