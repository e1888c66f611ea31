//! Shared helpers for the kernel tests: naive references, tolerant comparison, and the kernels
//! (instruction sets) a test runs, reported.
#![allow(dead_code)]

use std::io::Write as _;
use std::sync::Mutex;

use ndarray::{Array2, ArrayD};
use neurite_tensor::{Float, Kernel, Padding, Rng};
use proptest::prelude::*;

/// Every kernel this CPU runs, fastest first: what a test that compares the kernels loops over
/// (through `sgemm_with`, `ConvReluPool::with_kernel` or `Winograd::with_kernel`).
///
/// The first call for each `what` in a test binary reports them in one line, with the ones
/// this CPU lacks: `sgemm kernels exercised: avx2+fma, portable (not available here:
/// avx512f)`. An instruction set the CPU lacks is the hardware's, not a broken setup, so unlike
/// a missing tool (`neurite_testing::skip_or_fail`) it does not fail under CI; it is only
/// reported, so that a machine without AVX-512 does not pass silently.
pub fn kernels(what: &str) -> Vec<Kernel> {
    let (run, missing): (Vec<Kernel>, Vec<Kernel>) =
        Kernel::all().into_iter().partition(|k| k.is_supported());
    report(what, &run, &missing, "");
    run
}

/// [`kernels`] for a test that cannot choose its kernel: one going through `gemm`, which runs
/// `Kernel::best()` (chosen once per process; `NEURITE_SGEMM` picks another). Reports that one
/// kernel as exercised.
pub fn best_kernel(what: &str) -> Kernel {
    let best = Kernel::best();
    let missing: Vec<Kernel> = Kernel::all()
        .into_iter()
        .filter(|k| !k.is_supported())
        .collect();
    let note = "; Kernel::best only, NEURITE_SGEMM=avx512|avx2|portable picks one";
    report(what, &[best], &missing, note);
    best
}

/// The instruction set a kernel runs, as the reports name it.
fn isa(kernel: Kernel) -> &'static str {
    match kernel {
        Kernel::Avx512 => "avx512f",
        Kernel::Avx2 => "avx2+fma",
        Kernel::Portable => "portable",
    }
}

/// Prints the line of [`kernels`] once per `what`, straight to the terminal's stderr: the
/// harness captures `println!` and `eprintln!` of passing tests, and the line is for the runs
/// where everything passes.
fn report(what: &str, run: &[Kernel], missing: &[Kernel], note: &str) {
    static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut reported = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
    if reported.iter().any(|w| w == what) {
        return;
    }
    reported.push(what.to_string());
    let names = |kernels: &[Kernel]| match kernels {
        [] => "none".to_string(),
        _ => kernels
            .iter()
            .map(|&k| isa(k))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let line = format!(
        "{what} kernels exercised: {} (not available here: {}{note})",
        names(run),
        names(missing)
    );
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

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
