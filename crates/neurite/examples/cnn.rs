//! The reference **cnn** on the real MNIST test set (train on 8,000 images, test on 2,000):
//! Conv2D(32) -> MaxPool -> Conv2D(64) -> MaxPool -> Conv2D(64) -> Flatten -> Dense(64)
//! -> Dense(10, softmax), categorical cross-entropy on one-hot labels, Adam 1e-3, batch 64.
//!
//! `cargo run --release --example cnn`

use neurite::prelude::*;

#[path = "mnist_slice.rs"]
mod mnist_slice;

/// What the run reached.
pub struct Outcome {
    /// Accuracy on the 2,000 held-out images.
    pub test_accuracy: f64,
    /// Seconds per training epoch.
    pub seconds_per_epoch: Vec<f64>,
}

/// Trains the cnn for `epochs` epochs.
pub fn run(epochs: usize, verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (x, y, x_test, y_test) = mnist_slice::load(true)?;
    let metrics: Vec<Box<dyn neurite::metrics::streaming::StreamingMetric<f32>>> =
        vec![Box::new(Accuracy::new())];
    let mut model = Model::compile(
        models::cnn::<f32>(0),
        CategoricalCrossentropy::default(),
        Box::new(Adam::default()),
        metrics,
    )?;
    if verbose {
        println!("{}", model.network().summary()?);
    }
    let verbosity = if verbose {
        Verbosity::Auto
    } else {
        Verbosity::Silent
    };
    let history = model.fit(
        &x,
        &y,
        FitConfig::default()
            .epochs(epochs)
            .batch_size(64)
            .seed(0)
            .verbosity(verbosity),
    )?;
    let evaluation = model.evaluate(&x_test, &y_test, 500)?;
    Ok(Outcome {
        test_accuracy: evaluation.metrics["accuracy"],
        seconds_per_epoch: history.epochs.iter().map(|e| e.seconds).collect(),
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(5, true)?;
    println!(
        "test accuracy {:.4}; seconds per epoch {:.3?}",
        outcome.test_accuracy, outcome.seconds_per_epoch
    );
    Ok(())
}
