//! Finite-difference gradient checking in f64: the oracle for every layer and loss of neurite.
//!
//! The numeric derivative is the five-point central stencil
//! `f'(x) ~ (f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)) / 12h`, whose truncation error is
//! `O(h^4)`: with `h = 1e-4` it is far below f64 rounding noise, so the comparison measures the
//! analytic gradient, not the stencil. Callers drive a layer with a random upstream gradient `g`
//! through the scalar `loss = sum(y * g)`, so every output element contributes with its own weight.

use crate::Rng;

/// Step of the five-point stencil. Inputs must stay at least `2 * STEP` away from kinks.
pub const STEP: f64 = 1e-4;

/// Gradients smaller than this are compared absolutely: the relative error divides by
/// `max(|analytic|, |numeric|, ABS_FLOOR)`, so rounding noise on a near-zero gradient does not
/// count as a relative error of 100 %: below the floor, agreement to `TOLERANCE * ABS_FLOOR` =
/// 1e-9 absolute is required. That noise is the stencil's rounding, about `18 eps |loss| / 12 h`
/// = 2e-12 `|loss|`: 1.4e-10 was seen on an entry whose true gradient is exactly zero, for a
/// loss summed over a few hundred outputs, so the floor keeps an order of magnitude above it.
pub const ABS_FLOOR: f64 = 1e-3;

/// The pass mark: worst relative error allowed in f64.
pub const TOLERANCE: f64 = 1e-6;

/// The five-point central difference of `f` at offset 0 with step `h`.
///
/// `f(delta)` evaluates the function with the checked entry moved by `delta`; it returns `None`
/// when that evaluation crossed a kink (a ReLU sign or a pooling winner changed), and then the
/// whole derivative is `None`: a finite difference across a kink says nothing about the gradient.
///
/// ```
/// let d = neurite_tensor::gradcheck::five_point(1e-3, |dx| Some((1.0f64 + dx).powi(3))).unwrap();
/// assert!((d - 3.0).abs() < 1e-10);
/// ```
pub fn five_point(h: f64, mut f: impl FnMut(f64) -> Option<f64>) -> Option<f64> {
    let plus1 = f(h)?;
    let minus1 = f(-h)?;
    let plus2 = f(2.0 * h)?;
    let minus2 = f(-2.0 * h)?;
    Some((minus2 - 8.0 * minus1 + 8.0 * plus1 - plus2) / (12.0 * h))
}

/// `|a - n| / max(|a|, |n|, floor)`.
pub fn relative_error(analytic: f64, numeric: f64, floor: f64) -> f64 {
    let scale = analytic.abs().max(numeric.abs()).max(floor);
    let err = (analytic - numeric).abs() / scale;
    // A NaN on either side is a failure, never a silent pass.
    if err.is_nan() { f64::INFINITY } else { err }
}

/// Up to `max` distinct indices of `0..len`, in increasing order (all of them if `len <= max`).
pub fn pick_indices(len: usize, max: usize, rng: &mut Rng) -> Vec<usize> {
    if len <= max {
        return (0..len).collect();
    }
    let mut all: Vec<usize> = (0..len).collect();
    rng.shuffle(&mut all);
    let mut picked = all[..max].to_vec();
    picked.sort_unstable();
    picked
}

/// The outcome of one or more gradient checks: how many entries were compared and the worst one.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Entries whose analytic and numeric derivatives were compared.
    pub checked: usize,
    /// Entries skipped because a finite-difference step crossed a kink.
    pub skipped: usize,
    /// The largest relative error seen (0 when nothing was checked).
    pub worst: f64,
    /// Where the worst error occurred (`"input[3]"`, `"dense.weight[17]"`, ...).
    pub worst_at: String,
    /// The analytic derivative at the worst entry.
    pub worst_analytic: f64,
    /// The numeric derivative at the worst entry.
    pub worst_numeric: f64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            checked: 0,
            skipped: 0,
            worst: 0.0,
            worst_at: String::from("(nothing checked)"),
            worst_analytic: 0.0,
            worst_numeric: 0.0,
        }
    }
}

impl GradCheck {
    /// Records one comparison (or a skip, when `numeric` is `None`).
    pub fn record(&mut self, at: impl FnOnce() -> String, analytic: f64, numeric: Option<f64>) {
        let Some(numeric) = numeric else {
            self.skipped += 1;
            return;
        };
        self.checked += 1;
        let err = relative_error(analytic, numeric, ABS_FLOOR);
        if err > self.worst || self.checked == 1 {
            self.worst = err;
            self.worst_at = at();
            self.worst_analytic = analytic;
            self.worst_numeric = numeric;
        }
    }

    /// Folds another report into this one (sums the counts, keeps the worse entry).
    pub fn merge(&mut self, other: &GradCheck) {
        let first = self.checked == 0;
        self.checked += other.checked;
        self.skipped += other.skipped;
        if other.checked > 0 && (first || other.worst > self.worst) {
            self.worst = other.worst;
            self.worst_at.clone_from(&other.worst_at);
            self.worst_analytic = other.worst_analytic;
            self.worst_numeric = other.worst_numeric;
        }
    }

    /// Whether the worst relative error is below [`TOLERANCE`] and something was checked.
    pub fn passed(&self) -> bool {
        self.checked > 0 && self.worst < TOLERANCE
    }
}

impl std::fmt::Display for GradCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} entries checked ({} skipped at kinks), worst relative error {:.2e} at {} \
             (analytic {:.10e}, numeric {:.10e})",
            self.checked,
            self.skipped,
            self.worst,
            self.worst_at,
            self.worst_analytic,
            self.worst_numeric
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stencil_is_exact_on_quartics() {
        let d = five_point(0.1, |dx| Some((2.0f64 + dx).powi(4))).unwrap();
        assert!((d - 32.0).abs() < 1e-10, "{d}");
    }

    #[test]
    fn kink_crossing_skips() {
        let mut report = GradCheck::default();
        report.record(
            || "x".into(),
            1.0,
            five_point(0.1, |dx| (dx < 0.15).then_some(dx)),
        );
        assert_eq!((report.checked, report.skipped), (0, 1));
        assert!(!report.passed());
    }

    #[test]
    fn records_worst() {
        let mut report = GradCheck::default();
        report.record(|| "a".into(), 1.0, Some(1.0));
        report.record(|| "b".into(), 1.0, Some(1.1));
        assert_eq!(report.worst_at, "b");
        assert!(!report.passed());
        assert!(relative_error(f64::NAN, 1.0, 1e-5).is_infinite());
    }
}
