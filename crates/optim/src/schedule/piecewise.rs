//! Piecewise-constant rates, as Keras' `PiecewiseConstantDecay` defines them.

use serde::{Deserialize, Serialize};

use super::LearningRateSchedule;
use crate::error::{OptimError, Result, check_non_negative};

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, and the last value after the last boundary.
///
/// ```
/// use neurite_optim::{LearningRateSchedule, PiecewiseConstant};
/// let s = PiecewiseConstant::new(vec![100, 200], vec![1.0, 0.5, 0.1]);
/// assert_eq!(s.learning_rate(100), 1.0);
/// assert_eq!(s.learning_rate(101), 0.5);
/// assert_eq!(s.learning_rate(201), 0.1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PiecewiseConstant {
    /// Strictly increasing step boundaries (at least one).
    pub boundaries: Vec<u64>,
    /// One more rate than there are boundaries.
    pub values: Vec<f64>,
}

impl PiecewiseConstant {
    /// Keras' `PiecewiseConstantDecay(boundaries, values)`. The values are checked by
    /// [`PiecewiseConstant::validate`], which the optimizer's validation calls.
    pub fn new(boundaries: Vec<u64>, values: Vec<f64>) -> Self {
        PiecewiseConstant { boundaries, values }
    }

    /// Checks that boundaries are strictly increasing, that there is one more value than there
    /// are boundaries, and that every value is a finite rate >= 0.
    pub fn validate(&self) -> Result<()> {
        const NAME: &str = "PiecewiseConstant";
        if self.boundaries.is_empty() || self.values.len() != self.boundaries.len() + 1 {
            return Err(OptimError::invalid(
                NAME,
                "values",
                format!(
                    "{} values for {} boundaries",
                    self.values.len(),
                    self.boundaries.len()
                ),
                "need at least one boundary and exactly one more value than boundaries",
            ));
        }
        if let Some(w) = self.boundaries.windows(2).find(|w| w[0] >= w[1]) {
            return Err(OptimError::invalid(
                NAME,
                "boundaries",
                format!("{:?}", self.boundaries),
                format!("must increase strictly ({} is followed by {})", w[0], w[1]),
            ));
        }
        for &v in &self.values {
            check_non_negative(NAME, "values", v, false)?;
        }
        Ok(())
    }
}

impl LearningRateSchedule for PiecewiseConstant {
    fn learning_rate(&self, step: u64) -> f64 {
        // The number of boundaries strictly below `step` is the index of its interval.
        let i = self.boundaries.partition_point(|&b| b < step);
        self.values
            .get(i)
            .or(self.values.last())
            .copied()
            .unwrap_or(0.0)
    }

    fn name(&self) -> String {
        "PiecewiseConstant".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_closed_on_the_right_as_in_keras() {
        let s = PiecewiseConstant::new(vec![10, 20, 30], vec![4.0, 3.0, 2.0, 1.0]);
        let got: Vec<f64> = [0, 10, 11, 20, 21, 30, 31, 1_000_000]
            .iter()
            .map(|&t| s.learning_rate(t))
            .collect();
        assert_eq!(got, vec![4.0, 4.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0]);
    }

    #[test]
    fn rejects_mismatched_or_unsorted_input() {
        assert!(
            PiecewiseConstant::new(vec![10], vec![1.0])
                .validate()
                .is_err()
        );
        assert!(
            PiecewiseConstant::new(vec![], vec![1.0])
                .validate()
                .is_err()
        );
        assert!(
            PiecewiseConstant::new(vec![10, 10], vec![1.0, 2.0, 3.0])
                .validate()
                .is_err()
        );
        assert!(
            PiecewiseConstant::new(vec![10], vec![1.0, -2.0])
                .validate()
                .is_err()
        );
    }
}
