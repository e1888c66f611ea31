//! GEMM against a naive triple loop: shapes, transposes, strided views, alpha/beta, f32 and f64.

use crate::common;

use common::{assert_close, naive_matmul, random, tol};
use ndarray::{Array2, Ix2, s};
use neurite_tensor::{Float, Transpose, gemm, gemm_serial};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Problem {
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    /// Read A from every second row of a larger array (a non-unit stride).
    strided_a: bool,
    alpha: f64,
    beta: f64,
    seed: u64,
}

fn problem(max: usize) -> impl Strategy<Value = Problem> {
    (
        1..=max,
        1..=max,
        1..=max,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        -2.0..2.0f64,
        prop_oneof![Just(0.0), Just(1.0), -1.0..1.0f64],
        any::<u64>(),
    )
        .prop_map(
            |(m, k, n, trans_a, trans_b, strided_a, alpha, beta, seed)| Problem {
                m,
                k,
                n,
                trans_a,
                trans_b,
                strided_a,
                alpha,
                beta,
                seed,
            },
        )
}

fn check<F: Float>(p: &Problem, parallel: bool) {
    if F::DTYPE == "F32" {
        // f32 goes to neurite's sgemm, whose kernel `gemm` does not let a caller choose.
        common::best_kernel("gemm (f32)");
    }
    // Stored shapes: A is [M, K] or [K, M] when transposed.
    let a_shape = if p.trans_a { [p.k, p.m] } else { [p.m, p.k] };
    let b_shape = if p.trans_b { [p.n, p.k] } else { [p.k, p.n] };
    let big_a = random::<F>(&[a_shape[0] * 2, a_shape[1]], p.seed)
        .into_dimensionality::<Ix2>()
        .unwrap();
    let a = if p.strided_a {
        big_a.slice(s![..;2, ..]).to_owned()
    } else {
        big_a.slice(s![..a_shape[0], ..]).to_owned()
    };
    let a_view = if p.strided_a {
        big_a.slice(s![..;2, ..])
    } else {
        a.view()
    };
    let b = random::<F>(&b_shape, p.seed ^ 1)
        .into_dimensionality::<Ix2>()
        .unwrap();
    let c0 = random::<F>(&[p.m, p.n], p.seed ^ 2)
        .into_dimensionality::<Ix2>()
        .unwrap();

    let to64 = |x: &Array2<F>| x.mapv(|v| v.as_f64());
    let a64 = if p.trans_a {
        to64(&a).reversed_axes()
    } else {
        to64(&a)
    };
    let b64 = if p.trans_b {
        to64(&b).reversed_axes()
    } else {
        to64(&b)
    };
    let want = naive_matmul(&a64, &b64) * p.alpha + to64(&c0) * p.beta;

    let mut c = c0.clone();
    let flag = |t| if t { Transpose::Yes } else { Transpose::No };
    let (alpha, beta) = (F::from_f64(p.alpha), F::from_f64(p.beta));
    let run = if parallel {
        gemm::<F>
    } else {
        gemm_serial::<F>
    };
    run(
        alpha,
        a_view,
        flag(p.trans_a),
        b.view(),
        flag(p.trans_b),
        beta,
        c.view_mut(),
    )
    .unwrap();
    assert_close(
        &c.into_dyn(),
        &want.into_dyn(),
        tol::<F>(p.k) * 4.0,
        &format!("{p:?}"),
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn small_matches_naive_f64(p in problem(12)) { check::<f64>(&p, true); check::<f64>(&p, false); }

    #[test]
    fn small_matches_naive_f32(p in problem(12)) { check::<f32>(&p, true); }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Large enough to take the parallel split (M * N * K >= 2^17).
    #[test]
    fn large_matches_naive_f32(p in problem(150).prop_filter("large", |p| p.m * p.n * p.k >= 1 << 17)) {
        check::<f32>(&p, true);
    }

    #[test]
    fn large_matches_naive_f64(p in problem(150).prop_filter("large", |p| p.m * p.n * p.k >= 1 << 17)) {
        check::<f64>(&p, true);
    }
}

#[test]
fn one_by_one() {
    let p = Problem {
        m: 1,
        k: 1,
        n: 1,
        trans_a: false,
        trans_b: true,
        strided_a: false,
        alpha: 1.5,
        beta: 0.5,
        seed: 9,
    };
    check::<f32>(&p, true);
}

#[test]
fn beta_zero_ignores_nan_in_c() {
    let a = Array2::<f32>::ones((3, 4));
    let b = Array2::<f32>::ones((4, 5));
    let mut c = Array2::<f32>::from_elem((3, 5), f32::NAN);
    gemm(
        1.0,
        a.view(),
        Transpose::No,
        b.view(),
        Transpose::No,
        0.0,
        c.view_mut(),
    )
    .unwrap();
    assert!(c.iter().all(|&v| v == 4.0));
}

#[test]
fn empty_inner_dimension_scales_c() {
    let a = Array2::<f64>::zeros((2, 0));
    let b = Array2::<f64>::zeros((0, 3));
    let mut c = Array2::<f64>::from_elem((2, 3), 2.0);
    gemm(
        1.0,
        a.view(),
        Transpose::No,
        b.view(),
        Transpose::No,
        0.5,
        c.view_mut(),
    )
    .unwrap();
    assert!(c.iter().all(|&v| v == 1.0));
}
