//! Tutorial "MNIST CNN" of docs/keras.md, the reference **cnn**: Conv2D(32) -> MaxPool ->
//! Conv2D(64) -> MaxPool -> Conv2D(64) -> Flatten -> Dense(64) -> Dense(10, softmax),
//! categorical cross-entropy on one-hot labels, Adam, batch 64, on the real MNIST images
//! bundled with neurite (8,000 to train, 2,000 to test).
//!
//! `cargo run --release --example cnn`

use neurite::prelude::*;

/// What the run reached.
pub struct Outcome {
    /// Accuracy on the 2,000 held-out images.
    pub test_accuracy: f64,
    /// Seconds per training epoch.
    pub seconds_per_epoch: Vec<f64>,
}

/// Trains the cnn for `epochs` epochs.
pub fn run(epochs: usize, verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (train, test) = mnist_sample()?;
    let (x_train, y_train) = (train.images_f32(), train.labels_one_hot());
    let (x_test, y_test) = (test.images_f32(), test.labels_one_hot());

    let network = Sequential::new()
        .with_input_shape([1, 28, 28])
        .add(Conv2D::new(32, (3, 3)).activation(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Conv2D::new(64, (3, 3)).activation(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Conv2D::new(64, (3, 3)).activation(Activation::Relu))
        .add(Flatten::new())
        .add(Dense::new(64).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax));
    let mut model = Model::new(network)
        .loss(CategoricalCrossentropy::default())
        .optimizer(Adam::default())
        .metric(Accuracy::new())
        .compile()?;
    println!("{}", model.summary());
    let config = FitConfig::default().epochs(epochs).batch_size(64);
    let history = model.fit(&x_train, &y_train, config.verbosity(verbosity(verbose)))?;
    let evaluation = model.evaluate(&x_test, &y_test, None)?;
    println!(
        "test loss {:.4}, test accuracy {:.4}",
        evaluation.loss, evaluation.metrics["accuracy"]
    );
    Ok(Outcome {
        test_accuracy: evaluation.metrics["accuracy"],
        seconds_per_epoch: history.epochs.iter().map(|e| e.seconds).collect(),
    })
}

fn verbosity(verbose: bool) -> Verbosity {
    if verbose {
        Verbosity::Auto
    } else {
        Verbosity::Silent
    }
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(5, true)?;
    println!("seconds per epoch {:.3?}", outcome.seconds_per_epoch);
    Ok(())
}
