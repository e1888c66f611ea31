//! XOR, the classic first network: 3 inputs (two bits and a constant bias input) -> 4 sigmoid
//! -> 1 sigmoid, mean squared error, SGD with learning rate 0.1, the full batch every step.
//!
//! `cargo run --release --example xor`

use std::time::Instant;

use neurite::prelude::*;

/// What the run reached.
pub struct Outcome {
    /// Network outputs for the four patterns.
    pub outputs: Vec<f64>,
    /// The targets.
    pub targets: Vec<f64>,
    /// Epochs trained.
    pub epochs: usize,
    /// Mean seconds per epoch.
    pub seconds_per_epoch: f64,
}

/// Trains until every output is within 0.1 of its target (checked every 1000 epochs).
pub fn run(verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let x = ndarray::arr2(&[
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.0, 1.0],
        [1.0, 1.0, 1.0],
    ])
    .into_dyn();
    let y = ndarray::arr2(&[[0.0], [1.0], [1.0], [0.0]]).into_dyn();
    let mut model = Model::compile(
        models::xor::<f64>(1),
        MeanSquaredError,
        Box::new(Sgd::with_learning_rate(0.1)?),
        vec![],
    )?;
    let start = Instant::now();
    let mut epochs = 0;
    let mut outputs = Vec::new();
    while epochs < 200_000 {
        let history = model.fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(1000)
                .batch_size(4)
                .shuffle(false)
                .silent(),
        )?;
        epochs += history.epochs.len();
        outputs = model.predict(&x, 4)?.iter().copied().collect();
        if verbose {
            println!(
                "epoch {epochs:>6}: loss {:.6}, outputs {outputs:.3?}",
                history.last().map_or(f64::NAN, |e| e.loss)
            );
        }
        if outputs
            .iter()
            .zip(y.iter())
            .all(|(o, t)| (o - t).abs() < 0.1)
        {
            break;
        }
    }
    let seconds_per_epoch = start.elapsed().as_secs_f64() / epochs as f64;
    Ok(Outcome {
        outputs,
        targets: y.iter().copied().collect(),
        epochs,
        seconds_per_epoch,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(true)?;
    println!(
        "learnt XOR in {} epochs ({:.1} us/epoch): outputs {:.3?} for targets {:?}",
        outcome.epochs,
        outcome.seconds_per_epoch * 1e6,
        outcome.outputs,
        outcome.targets
    );
    Ok(())
}
