//! Finite-difference gradient checks (f64) of every layer, over random shapes, hyper-parameters
//! and values, plus the reference models end to end. `cargo xtask gradcheck --cases N` runs the
//! same cases many more times.

use neurite_layers::gradcheck::{Case, layer_cases, model_cases, model_check_passed};
use proptest::prelude::*;

fn run(case: &Case, seed: u64) -> Result<(), TestCaseError> {
    let report =
        (case.run)(seed).map_err(|e| TestCaseError::fail(format!("{}: {e}", case.name)))?;
    prop_assert!(
        report.passed() && report.skipped == 0,
        "{} (seed {seed}): {report}",
        case.name
    );
    Ok(())
}

fn case(name: &str) -> Case {
    layer_cases()
        .into_iter()
        .find(|c| c.name == name)
        .expect("case exists")
}

macro_rules! layer_props {
    ($($test:ident => $name:literal),* $(,)?) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]
            $(
                #[test]
                fn $test(seed in any::<u64>()) {
                    run(&case($name), seed)?;
                }
            )*
        }
    };
}

layer_props! {
    dense => "dense",
    conv2d => "conv2d",
    max_pooling2d => "max_pooling2d",
    average_pooling2d => "average_pooling2d",
    global_average_pooling2d => "global_average_pooling2d",
    flatten => "flatten",
    reshape => "reshape",
    dropout => "dropout",
    batch_normalization => "batch_normalization",
    relu => "relu",
    leaky_relu => "leaky_relu",
    sigmoid => "sigmoid",
    tanh => "tanh",
    softmax => "softmax",
    elu => "elu",
    elu_alpha => "elu_alpha",
    gelu => "gelu",
    softplus => "softplus",
    linear => "linear",
}

#[test]
fn every_case_has_a_test() {
    assert_eq!(layer_cases().len(), 19);
}

/// The whole reference models: most entries compared, none above tolerance. Steps that cross a
/// ReLU or pooling kink somewhere in the model are skipped (and counted), since a finite
/// difference across a kink says nothing about the gradient.
#[test]
fn reference_models_end_to_end() {
    for case in model_cases() {
        for seed in 0..3 {
            let report = (case.run)(seed).unwrap();
            assert!(
                model_check_passed(&report),
                "{} seed {seed}: {report}",
                case.name
            );
        }
    }
}
