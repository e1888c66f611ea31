//! Times one optimizer step on the parameters of the reference MLP (784-128-10, 101,770 f32s).
//!
//! `cargo run --release -p neurite-optim --example step_bench`

use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use neurite_optim::{AdamConfig, Clip, Optimizer, OptimizerConfig, SgdConfig};
use neurite_tensor::{Param, Rng};

fn mlp_params() -> Vec<Param<f32>> {
    let mut rng = Rng::new(0);
    let shapes: [(&str, &[usize]); 4] = [
        ("dense_1.weight", &[784, 128]),
        ("dense_1.bias", &[128]),
        ("dense_2.weight", &[128, 10]),
        ("dense_2.bias", &[10]),
    ];
    shapes
        .iter()
        .map(|(name, shape)| {
            let mut p = Param::new(
                *name,
                ArrayD::from_shape_fn(IxDyn(shape), |_| rng.uniform(-0.1, 0.1) as f32),
            );
            p.grad_mut()
                .mapv_inplace(|_| rng.uniform(-0.01, 0.01) as f32);
            p
        })
        .collect()
}

/// The median time of one step, in microseconds.
fn time(opt: &mut dyn Optimizer<f32>, params: &mut [Param<f32>]) -> f64 {
    let mut refs: Vec<&mut Param<f32>> = params.iter_mut().collect();
    for _ in 0..50 {
        opt.step(&mut refs).unwrap();
    }
    let mut samples: Vec<f64> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            opt.step(&mut refs).unwrap();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let cases = [
        ("SGD", OptimizerConfig::Sgd(SgdConfig::default())),
        (
            "SGD momentum 0.9",
            OptimizerConfig::Sgd(SgdConfig {
                momentum: 0.9,
                ..Default::default()
            }),
        ),
        ("Adam", OptimizerConfig::Adam(AdamConfig::default())),
        ("AdamW", OptimizerConfig::Adam(AdamConfig::adamw())),
        (
            "Adam + global clipnorm",
            OptimizerConfig::Adam(AdamConfig {
                clip: Clip::GlobalNorm(1.0),
                ..Default::default()
            }),
        ),
    ];
    println!(
        "plain zipped Adam loop over 101,770 f32: {:8.1} us",
        plain_adam_us(101_770)
    );
    for threads in [1, rayon::current_num_threads()] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for (name, config) in &cases {
            let mut params = mlp_params();
            let mut opt = config.build::<f32>().unwrap();
            let us = pool.install(|| time(opt.as_mut(), &mut params));
            println!("{threads} thread(s)  {name:<24} {us:8.1} us/step (median of 2000)");
        }
    }
}

/// The Adam arithmetic as a bare zipped loop, as a yardstick for the kernel's vectorization.
fn plain_adam_us(n: usize) -> f64 {
    let mut w = vec![0.1f32; n];
    let g = vec![0.01f32; n];
    let (mut m, mut v) = (vec![0f32; n], vec![0f32; n]);
    let (b1, b2, alpha, eps) = (0.1f32, 0.001f32, 1e-3f32, 1e-7f32);
    let mut samples: Vec<f64> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            for (((w, &g), m), v) in w.iter_mut().zip(&g).zip(&mut m).zip(&mut v) {
                *m += (g - *m) * b1;
                *v += (g * g - *v) * b2;
                *w -= *m * alpha / (v.sqrt() + eps);
            }
            std::hint::black_box(&mut w);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
