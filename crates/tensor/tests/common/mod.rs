//! Shared helpers for the kernel tests: naive references and tolerant comparison.
#![allow(dead_code)]

use ndarray::{Array2, ArrayD};
use neurite_tensor::{Float, Padding, Rng};
use proptest::prelude::*;

/// A tensor of uniform values in [-1, 1) from `seed`.
pub fn random<F: Float>(shape: &[usize], seed: u64) -> ArrayD<F> {
    let mut rng = Rng::new(seed);
    ArrayD::from_shape_simple_fn(shape, || F::from_f64(rng.uniform(-1.0, 1.0)))
}

/// Asserts `got` and `want` agree within `rtol * max(|want|, scale) ` everywhere.
pub fn assert_close<F: Float>(got: &ArrayD<F>, want: &ArrayD<f64>, rtol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for ((idx, g), w) in got.indexed_iter().zip(want.iter()) {
        let g = g.as_f64();
        let tol = rtol * w.abs().max(1.0);
        assert!(
            (g - w).abs() <= tol,
            "{what}: at {idx:?} got {g}, want {w} (tol {tol})"
        );
    }
}

/// Relative tolerance for a value computed in `F` from sums of `terms` products.
pub fn tol<F: Float>(terms: usize) -> f64 {
    let eps = F::epsilon().as_f64();
    eps * 8.0 * (terms as f64).max(1.0)
}

/// Naive `op(A) op(B)` in f64.
pub fn naive_matmul(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[(i, p)] * b[(p, j)]).sum())
}

/// Valid, same, or explicit padding of up to two rows or columns on each side.
pub fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        (0..3usize, 0..3usize, 0..3usize, 0..3usize)
            .prop_map(|(t, l, b, r)| Padding::Explicit([t, l, b, r])),
    ]
}
