//! Tutorial "XOR" of docs/keras.md, the classic first network: 3 inputs (two bits and a
//! constant bias input) -> 4 sigmoid -> 1 sigmoid, mean squared error, SGD with learning rate
//! 0.1, the full batch every step.
//!
//! `cargo run --release --example xor`

use neurite::prelude::*;

/// What the run reached.
pub struct Outcome {
    /// Network outputs for the four patterns.
    pub outputs: Vec<f64>,
    /// The targets.
    pub targets: Vec<f64>,
    /// Epochs trained.
    pub epochs: usize,
}

/// Trains until every output is within 0.1 of its target (checked every 1000 epochs).
pub fn run(verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let x = array![
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.0, 1.0],
        [1.0, 1.0, 1.0]
    ];
    let y = array![[0.0], [1.0], [1.0], [0.0]];

    let network = Sequential::<f64>::with_seed(1)
        .with_input_shape([3])
        .add(Dense::new(4).activation(Activation::Sigmoid))
        .add(Dense::new(1).activation(Activation::Sigmoid));
    let mut model = Model::new(network)
        .loss(MeanSquaredError)
        .optimizer(Sgd::default().learning_rate(0.1))
        .compile()?;
    let mut epochs = 0;
    let mut outputs = Array2::zeros((4, 1));
    while epochs < 200_000 {
        let config = FitConfig::default()
            .epochs(1000)
            .batch_size(4)
            .shuffle(false)
            .silent();
        let history = model.fit(&x, &y, config)?;
        epochs += history.epochs.len();
        outputs = model.predict(&x, None)?;
        if verbose {
            println!(
                "epoch {epochs:>6}: loss {:.6}, outputs {:.3}",
                history.last().map_or(f64::NAN, |e| e.loss),
                outputs.column(0)
            );
        }
        if outputs.iter().zip(&y).all(|(o, t)| (o - t).abs() < 0.1) {
            break;
        }
    }
    Ok(Outcome {
        outputs: outputs.iter().copied().collect(),
        targets: y.iter().copied().collect(),
        epochs,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(true)?;
    println!(
        "learnt XOR in {} epochs: outputs {:.3?} for targets {:?}",
        outcome.epochs, outcome.outputs, outcome.targets
    );
    Ok(())
}
