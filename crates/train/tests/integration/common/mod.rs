//! Data shared by the training tests.

use std::path::Path;

use ndarray::Array2;
use neurite_metrics::Score;
use neurite_tensor::{Float, Rng, Tensor};
use neurite_train::Model;

/// Three Gaussian blobs in 2-D with standard deviation `spread`, labels 0..3 as floats
/// (sample `i` belongs to blob `i % 3`).
pub fn blobs<F: Float>(n: usize, seed: u64, spread: f64) -> (Tensor<F>, Tensor<F>) {
    let centers = [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)];
    let mut rng = Rng::new(seed);
    let mut x = Array2::zeros((n, 2));
    let mut y = ndarray::Array1::zeros(n);
    for i in 0..n {
        let c = i % 3;
        x[[i, 0]] = F::from_f64(centers[c].0 + spread * rng.normal());
        x[[i, 1]] = F::from_f64(centers[c].1 + spread * rng.normal());
        y[i] = F::from_f64(c as f64);
    }
    (x.into_dyn(), y.into_dyn())
}

/// Asserts that `resumed` writes the same model file as `straight`, byte for byte (both saved
/// into `dir`): what "resuming equals never stopping" means.
#[allow(dead_code)] // not every test binary compares runs
pub fn assert_same_file<F: Float + Score>(dir: &Path, straight: &Model<F>, resumed: &Model<F>) {
    let a = dir.join("straight.safetensors");
    let b = dir.join("resumed.safetensors");
    straight.save(&a).unwrap();
    resumed.save(&b).unwrap();
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "the resumed model file differs from the uninterrupted one"
    );
}
