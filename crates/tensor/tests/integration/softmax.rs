//! Softmax and log-softmax: against the plain formula, at extreme inputs, and the backward pass
//! against central differences.

use crate::common;

use common::random;
use ndarray::{ArrayD, Axis, IxDyn};
use neurite_tensor::{log_softmax, softmax, softmax_backward};
use proptest::prelude::*;

fn shape_and_axis() -> impl Strategy<Value = (Vec<usize>, usize, u64)> {
    (prop::collection::vec(1..5usize, 1..4), any::<u64>()).prop_flat_map(|(shape, seed)| {
        let rank = shape.len();
        (Just(shape), 0..rank, Just(seed))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn matches_plain_formula((shape, axis, seed) in shape_and_axis()) {
        let x = random::<f64>(&shape, seed) * 5.0;
        let p = softmax(x.view(), axis).unwrap();
        let e = x.mapv(f64::exp);
        let want = &e / &e.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        for (a, b) in p.iter().zip(want.iter()) {
            prop_assert!((a - b).abs() < 1e-14);
        }
        let lp = log_softmax(x.view(), axis).unwrap();
        for (a, b) in lp.iter().zip(want.iter()) {
            prop_assert!((a - b.ln()).abs() < 1e-13);
        }
        // f32 agrees with f64 to single precision.
        let p32 = softmax(x.mapv(|v| v as f32).view(), axis).unwrap();
        for (a, b) in p32.iter().zip(p.iter()) {
            prop_assert!((*a as f64 - b).abs() < 1e-6);
        }
    }

    /// d_x from softmax_backward equals the finite-difference gradient of sum(softmax(x) * g).
    #[test]
    fn backward_matches_central_differences((shape, axis, seed) in shape_and_axis()) {
        let x = random::<f64>(&shape, seed) * 3.0;
        let g = random::<f64>(&shape, seed ^ 1);
        let y = softmax(x.view(), axis).unwrap();
        let mut d_x = ArrayD::zeros(x.raw_dim());
        softmax_backward(y.view(), g.view(), axis, d_x.view_mut()).unwrap();
        let objective = |x: &ArrayD<f64>| (softmax(x.view(), axis).unwrap() * &g).sum();
        let h = 1e-6;
        for idx in ndarray::indices(x.raw_dim()) {
            let idx: IxDyn = idx;
            let mut plus = x.clone();
            plus[&idx] += h;
            let mut minus = x.clone();
            minus[&idx] -= h;
            let numeric = (objective(&plus) - objective(&minus)) / (2.0 * h);
            prop_assert!((numeric - d_x[&idx]).abs() < 1e-8, "{numeric} vs {}", d_x[&idx]);
        }
    }
}

#[test]
fn huge_inputs_do_not_overflow() {
    let x = ndarray::array![[1e4f32, 1e4 - 1.0, -1e4]].into_dyn();
    let p = softmax(x.view(), 1).unwrap();
    assert!(p.iter().all(|v| v.is_finite()));
    assert!((p[[0, 0]] - 1.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-6);
    let lp = log_softmax(x.view(), 1).unwrap();
    assert!(lp.iter().all(|v| v.is_finite()));
    assert!((lp[[0, 2]] - (-2e4 - (1.0 + (-1.0f32).exp()).ln())).abs() < 1.0);
}

#[test]
fn minus_infinity_masks_give_zero_not_nan() {
    let x = ndarray::array![
        [0.0f64, f64::NEG_INFINITY, 0.0],
        [f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY]
    ]
    .into_dyn();
    let p = softmax(x.view(), 1).unwrap();
    assert_eq!(p.as_slice().unwrap(), &[0.5, 0.0, 0.5, 0.0, 0.0, 0.0]);
    let lp = log_softmax(x.view(), 1).unwrap();
    assert!(lp.iter().all(|v| !v.is_nan()));
    assert_eq!(lp[[0, 1]], f64::NEG_INFINITY);
    assert!((lp[[0, 0]] - 0.5f64.ln()).abs() < 1e-15);
}

#[test]
fn bad_axis_is_an_error() {
    let x = ndarray::ArrayD::<f32>::zeros(vec![2, 3]);
    assert!(softmax(x.view(), 2).is_err());
    assert!(log_softmax(x.view(), 5).is_err());
}
