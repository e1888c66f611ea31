//! The examples are run here, so what `cargo run --example NAME` shows (and what docs/keras.md
//! quotes) is what is tested. MNIST examples train on the bundled real images, few epochs.

#[path = "../../examples/xor.rs"]
mod xor;

#[path = "../../examples/neuron.rs"]
mod neuron;

#[path = "../../examples/regression.rs"]
mod regression;

#[path = "../../examples/mlp.rs"]
mod mlp;

#[path = "../../examples/cnn.rs"]
mod cnn;

#[path = "../../examples/cnn_dropout.rs"]
mod cnn_dropout;

#[path = "../../examples/confusion.rs"]
mod confusion;

#[test]
fn xor_learns_every_pattern_within_0_1() {
    let outcome = xor::run(false).unwrap();
    assert!(outcome.epochs > 0);
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
fn neuron_trained_by_hand_finds_y_equals_2x_minus_1() {
    let (weight, bias, at_ten) = neuron::run(500).unwrap();
    assert!((weight - 2.0).abs() < 1e-3, "weight {weight}");
    assert!((bias + 1.0).abs() < 1e-3, "bias {bias}");
    assert!((at_ten - 19.0).abs() < 1e-2, "prediction at 10: {at_ten}");
}

#[test]
fn regression_test_mse_within_twice_the_noise_and_exact_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = regression::run(100, &dir.path().join("regression.safetensors"), false).unwrap();
    assert!(
        outcome.test_mse < 2.0 * outcome.noise_variance,
        "test MSE {} vs noise variance {}",
        outcome.test_mse,
        outcome.noise_variance
    );
    assert!(outcome.round_trip_exact);
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

#[test]
fn cnn_with_dropout_learns_follows_its_schedule_and_logs_every_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let outcome = cnn_dropout::run(3_000, 2, &log, false).unwrap();
    assert!(
        outcome.test_accuracy > 0.80,
        "test accuracy {}",
        outcome.test_accuracy
    );
    let (rate, scheduled) = outcome.final_rate;
    assert_eq!(rate, scheduled);
    assert!(rate < 1e-3, "the rate did not decay: {rate}");
    let (epochs, lines) = outcome.epochs_and_log_lines;
    assert_eq!(lines, epochs + 1);
}

#[test]
fn confusion_matrix_agrees_with_evaluate_and_zero_is_well_separated() {
    let outcome = confusion::run(1, false).unwrap();
    assert_eq!(outcome.matrix.total(), 2_000);
    let (evaluated, from_matrix) = outcome.accuracies;
    assert!(
        (evaluated - from_matrix).abs() < 1e-12,
        "{evaluated} vs {from_matrix}"
    );
    assert!(evaluated > 0.85, "accuracy {evaluated}");
    let (auc, average_precision) = outcome.zero_vs_rest;
    assert!(
        auc > 0.98 && average_precision > 0.9,
        "AUC {auc}, AP {average_precision}"
    );
}
