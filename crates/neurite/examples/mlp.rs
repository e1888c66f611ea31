//! Tutorial "MNIST MLP" of docs/keras.md: Flatten -> Dense(128, relu) -> Dropout(0.2) ->
//! Dense(10, softmax), sparse categorical cross-entropy on the integer labels, Adam, batch 32,
//! on the real MNIST images bundled with neurite (8,000 to train, 2,000 to test).
//!
//! `cargo run --release --example mlp`

use neurite::prelude::*;

/// What the run reached.
pub struct Outcome {
    /// Accuracy on the 2,000 held-out images.
    pub test_accuracy: f64,
    /// Seconds per training epoch.
    pub seconds_per_epoch: Vec<f64>,
}

/// Trains the mlp for `epochs` epochs.
pub fn run(epochs: usize, verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (train, test) = mnist_sample()?; // images [N, 1, 28, 28] in [0, 1], labels u8
    let (x_train, y_train) = (train.images_f32(), train.labels());
    let (x_test, y_test) = (test.images_f32(), test.labels());

    let network = Sequential::new()
        .with_input_shape([1, 28, 28])
        .add(Flatten::new())
        .add(Dense::new(128).activation(Activation::Relu))
        .add(Dropout::new(0.2))
        .add(Dense::new(10).activation(Activation::Softmax));
    let mut model = Model::new(network)
        .loss(SparseCategoricalCrossentropy::default())
        .optimizer(Adam::default())
        .metric(Accuracy::new())
        .compile()?;
    if verbose {
        println!("{}", model.summary());
    }
    let verbosity = if verbose {
        Verbosity::Auto
    } else {
        Verbosity::Silent
    };
    let history = model.fit(
        &x_train,
        y_train,
        FitConfig::default().epochs(epochs).verbosity(verbosity),
    )?;
    let evaluation = model.evaluate(&x_test, y_test, None)?;
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
