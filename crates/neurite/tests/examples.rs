//! The examples are run here, so what `cargo run --example NAME` shows is what is tested.

// mlp.rs and cnn.rs each include mnist_slice.rs, as they must to build as standalone examples.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/xor.rs"]
mod xor;

#[path = "../examples/regression.rs"]
mod regression;

#[path = "../examples/mlp.rs"]
mod mlp;

#[path = "../examples/cnn.rs"]
mod cnn;

#[test]
fn xor_learns_every_pattern_within_0_1() {
    let outcome = xor::run(false).unwrap();
    for (o, t) in outcome.outputs.iter().zip(&outcome.targets) {
        assert!(
            (o - t).abs() < 0.1,
            "outputs {:?} for targets {:?}",
            outcome.outputs,
            outcome.targets
        );
    }
}

#[test]
fn regression_test_mse_within_twice_the_noise() {
    let outcome = regression::run(100, false).unwrap();
    assert!(
        outcome.test_mse < 2.0 * outcome.noise_variance,
        "test MSE {} vs noise variance {}",
        outcome.test_mse,
        outcome.noise_variance
    );
}

#[test]
fn mlp_on_real_mnist_slice_above_0_90() {
    let outcome = mlp::run(5, false).unwrap();
    assert!(
        outcome.test_accuracy > 0.90,
        "test accuracy {}",
        outcome.test_accuracy
    );
}

#[test]
fn cnn_on_real_mnist_slice_above_0_93() {
    let outcome = cnn::run(3, false).unwrap();
    assert!(
        outcome.test_accuracy > 0.93,
        "test accuracy {}",
        outcome.test_accuracy
    );
}
