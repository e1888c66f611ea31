//! Tutorial "CNN with dropout and a decaying learning rate" of docs/keras.md: Conv2D(32) ->
//! MaxPool -> Conv2D(64) -> MaxPool -> Flatten -> Dropout(0.5) -> Dense(10, softmax), Adam
//! whose rate follows `ExponentialDecay`, 10 % of the training images held out for
//! validation, early stopping on the validation loss and a CSV log of every epoch.
//!
//! `cargo run --release --example cnn_dropout`

use neurite::prelude::*;

/// What the run reached.
pub struct Outcome {
    /// Accuracy on the 2,000 held-out test images.
    pub test_accuracy: f64,
    /// The learning rate after the last epoch, and the schedule's value at that step.
    pub final_rate: (f64, f64),
    /// Epochs run, and lines in the CSV log (header included).
    pub epochs_and_log_lines: (usize, usize),
}

/// Trains on the first `n_train` bundled images for `epochs` epochs, logging to `log`.
pub fn run(
    n_train: usize,
    epochs: usize,
    log: &std::path::Path,
    verbose: bool,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (train, test) = mnist_sample()?;
    let (images, labels) = (train.images_f32(), train.labels_one_hot());
    // Views of the first n_train samples: nothing is copied.
    let x_train = images.slice(s![..n_train, .., .., ..]);
    let y_train = labels.slice(s![..n_train, ..]);

    let network = Sequential::new()
        .with_input_shape([1, 28, 28])
        .add(Conv2D::new(32, (3, 3)).activation(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Conv2D::new(64, (3, 3)).activation(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Flatten::new())
        .add(Dropout::new(0.5))
        .add(Dense::new(10).activation(Activation::Softmax));
    let schedule = ExponentialDecay::new(1e-3, 50, 0.9).staircase(true);
    let mut model = Model::new(network)
        .loss(CategoricalCrossentropy::default())
        .optimizer(Adam::default().learning_rate(schedule.clone()))
        .metric(Accuracy::new())
        .compile()?;
    let config = FitConfig::default()
        .epochs(epochs)
        .batch_size(64)
        .validation_split(0.1)
        .callback(
            EarlyStopping::new("val_loss")
                .patience(2)
                .restore_best_weights(true),
        )
        .callback(CSVLogger::new(log))
        .verbosity(if verbose {
            Verbosity::Auto
        } else {
            Verbosity::Silent
        });
    let history = model.fit(&x_train, &y_train, config)?;
    let evaluation = model.evaluate(&test.images_f32(), &test.labels_one_hot(), None)?;

    let steps = model.optimizer().iterations();
    let last_rate = history.last().map_or(f64::NAN, |e| e.learning_rate);
    Ok(Outcome {
        test_accuracy: evaluation.metrics["accuracy"],
        final_rate: (last_rate, schedule.learning_rate(steps)),
        epochs_and_log_lines: (
            history.epochs.len(),
            std::fs::read_to_string(log)?.lines().count(),
        ),
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(8_000, 15, std::path::Path::new("cnn_dropout.csv"), true)?;
    println!(
        "test accuracy {:.4}; learning rate {:.3e} (schedule {:.3e}); log in cnn_dropout.csv",
        outcome.test_accuracy, outcome.final_rate.0, outcome.final_rate.1
    );
    Ok(())
}
