//! Regression: 10 inputs -> Dense(10, relu) -> Dense(1), mean squared error, Adam, batch 10,
//! on data from a known linear function plus Gaussian noise.
//!
//! `cargo run --release --example regression`

use std::time::Instant;

use neurite::prelude::*;
use neurite::tensor::Rng;

/// What the run reached.
pub struct Outcome {
    /// Mean squared error on held-out data.
    pub test_mse: f64,
    /// Variance of the noise added to the targets (the best achievable MSE).
    pub noise_variance: f64,
    /// Mean seconds per epoch.
    pub seconds_per_epoch: f64,
}

/// `n` samples of `y = w . x + b + noise` with `x` uniform in [-1, 1]^10.
fn dataset(n: usize, rng: &mut Rng, noise_std: f64) -> (Tensor<f64>, Tensor<f64>) {
    const W: [f64; 10] = [0.5, -1.0, 2.0, 0.0, 1.5, -0.5, 0.25, -2.0, 1.0, 0.75];
    let x = ndarray::Array2::from_shape_simple_fn((n, 10), || rng.uniform(-1.0, 1.0));
    let y = x
        .dot(&ndarray::arr1(&W))
        .mapv(|v| v + 0.3 + noise_std * rng.normal());
    (x.into_dyn(), y.insert_axis(ndarray::Axis(1)).into_dyn())
}

/// Trains for `epochs` epochs on 1,000 samples and tests on 500 others.
pub fn run(epochs: usize, verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let noise_std = 0.1;
    let mut rng = Rng::new(42);
    let (x, y) = dataset(1000, &mut rng, noise_std);
    let (x_test, y_test) = dataset(500, &mut rng, noise_std);
    let mut model = Model::compile(
        models::regression::<f64>(0),
        MeanSquaredError,
        Box::new(Adam::default()),
        vec![],
    )?;
    let verbosity = if verbose {
        Verbosity::Lines
    } else {
        Verbosity::Silent
    };
    let start = Instant::now();
    let history = model.fit(
        &x,
        &y,
        FitConfig::default()
            .epochs(epochs)
            .batch_size(10)
            .seed(1)
            .verbosity(verbosity),
    )?;
    let seconds_per_epoch = start.elapsed().as_secs_f64() / history.epochs.len() as f64;
    let test_mse = model.evaluate(&x_test, &y_test, 100)?.loss;
    Ok(Outcome {
        test_mse,
        noise_variance: noise_std * noise_std,
        seconds_per_epoch,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(100, true)?;
    println!(
        "test MSE {:.5} (noise variance {:.5}, ratio {:.2}); {:.2} ms/epoch",
        outcome.test_mse,
        outcome.noise_variance,
        outcome.test_mse / outcome.noise_variance,
        outcome.seconds_per_epoch * 1e3
    );
    Ok(())
}
