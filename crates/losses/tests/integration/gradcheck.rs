//! Finite-difference gradient checks (f64) of every loss, its from_logits form and its fused
//! gradient, over random shapes, targets and predictions.

use neurite_losses::gradcheck::{Case, loss_cases};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_loss_gradient_matches_finite_differences(seed in any::<u64>()) {
        for case in loss_cases() {
            run(&case, seed)?;
        }
    }
}

#[test]
fn twelve_cases() {
    assert_eq!(loss_cases().len(), 12);
}
