//! Tutorial "regression, saved and loaded" of docs/keras.md: 10 inputs -> Dense(10, relu) ->
//! Dense(1), mean squared error, Adam, batch 10, on a known linear function plus Gaussian
//! noise; the trained model is saved, loaded back, and gives the same predictions bit for bit.
//!
//! `cargo run --release --example regression`

use neurite::prelude::*;

/// What the run reached.
pub struct Outcome {
    /// Mean squared error on held-out data.
    pub test_mse: f64,
    /// Variance of the noise added to the targets (the best achievable MSE).
    pub noise_variance: f64,
    /// Whether the loaded model predicts exactly what the trained one does.
    pub round_trip_exact: bool,
}

/// `n` samples of `y = w . x + b + noise` with `x` uniform in [-1, 1]^10.
fn dataset(n: usize, rng: &mut Rng, noise_std: f64) -> (Array2<f64>, Array2<f64>) {
    const W: [f64; 10] = [0.5, -1.0, 2.0, 0.0, 1.5, -0.5, 0.25, -2.0, 1.0, 0.75];
    let x = Array2::from_shape_simple_fn((n, 10), || rng.uniform(-1.0, 1.0));
    let y = x
        .dot(&ndarray::arr1(&W))
        .mapv(|v| v + 0.3 + noise_std * rng.normal());
    (x, y.insert_axis(Axis(1)))
}

/// Trains for `epochs` epochs on 1,000 samples, tests on 500 others, saves to and loads from
/// `path`.
pub fn run(
    epochs: usize,
    path: &std::path::Path,
    verbose: bool,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let noise_std = 0.1;
    let mut rng = Rng::new(42);
    let (x, y) = dataset(1000, &mut rng, noise_std);
    let (x_test, y_test) = dataset(500, &mut rng, noise_std);

    let network = Sequential::<f64>::new()
        .with_input_shape([10])
        .add(Dense::new(10).activation(Activation::Relu))
        .add(Dense::new(1));
    let mut model = Model::new(network)
        .loss(MeanSquaredError)
        .optimizer(Adam::default())
        .compile()?;
    let verbosity = if verbose {
        Verbosity::Lines
    } else {
        Verbosity::Silent
    };
    model.fit(
        &x,
        &y,
        FitConfig::default()
            .epochs(epochs)
            .batch_size(10)
            .seed(1)
            .verbosity(verbosity),
    )?;
    let test_mse = model.evaluate(&x_test, &y_test, None)?.loss;

    // The file holds the network, the loss, the optimizer with its state, and the metrics:
    // the loaded model is compiled, ready to predict or to go on training.
    model.save(path)?;
    let loaded = Model::<f64>::load(path)?;

    let before = model.predict(&x_test, None)?;
    let after = loaded.predict(&x_test, None)?;
    let round_trip_exact = before
        .iter()
        .zip(&after)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    Ok(Outcome {
        test_mse,
        noise_variance: noise_std * noise_std,
        round_trip_exact,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(100, std::path::Path::new("regression.safetensors"), true)?;
    println!(
        "test MSE {:.5} (noise variance {:.5}); loaded model identical: {}",
        outcome.test_mse, outcome.noise_variance, outcome.round_trip_exact
    );
    Ok(())
}
