//! Tutorial "confusion matrix, ROC and PR curves from predict" of docs/keras.md: train the
//! MNIST mlp briefly, take the predicted probabilities, and evaluate them the scikit-learn way.
//!
//! `cargo run --release --example confusion`

use neurite::prelude::*;

/// What the run measured.
pub struct Outcome {
    /// The confusion matrix of the 2,000 test images.
    pub matrix: ConfusionMatrix,
    /// Accuracy from `evaluate`, and from the matrix's diagonal.
    pub accuracies: (f64, f64),
    /// ROC AUC and average precision of "is it a 0?" against the rest.
    pub zero_vs_rest: (f64, f64),
}

/// Trains for `epochs` epochs and evaluates the predictions.
pub fn run(epochs: usize, verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (train, test) = mnist_sample()?;
    let mut model = Model::new(models::mlp_layers(0).with_input_shape([1, 28, 28]))
        .loss(SparseCategoricalCrossentropy::default())
        .optimizer(Adam::default())
        .metric(Accuracy::new())
        .compile()?;
    model.fit(
        &train.images_f32(),
        train.labels(),
        FitConfig::default().epochs(epochs).silent(),
    )?;
    let x_test = test.images_f32();
    let evaluated = model.evaluate(&x_test, test.labels(), None)?.metrics["accuracy"];

    let probabilities = model.predict(&x_test, None)?; // Array2<f32>, one row per image
    let predicted = predicted_classes(probabilities.view());
    let truth: Vec<usize> = test.labels().iter().map(|&l| usize::from(l)).collect();
    let matrix = ConfusionMatrix::new(&truth, &predicted, 10)?;

    // One class against the rest: is the digit a 0?
    let is_zero: Vec<usize> = truth.iter().map(|&l| usize::from(l == 0)).collect();
    let roc = roc_curve(&is_zero, probabilities.column(0))?;
    let pr = precision_recall_curve(&is_zero, probabilities.column(0))?;
    if verbose {
        println!("{:?}", matrix.counts());
        println!(
            "ROC AUC {:.4}, average precision {:.4}",
            roc.auc(),
            pr.average_precision()
        );
    }
    let diagonal: u64 = (0..10).map(|c| matrix.counts()[[c, c]]).sum();
    let from_matrix = diagonal as f64 / matrix.total() as f64;
    Ok(Outcome {
        accuracies: (evaluated, from_matrix),
        zero_vs_rest: (roc.auc(), pr.average_precision()),
        matrix,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = run(3, true)?;
    println!("accuracy {:.4}", outcome.accuracies.0);
    Ok(())
}
