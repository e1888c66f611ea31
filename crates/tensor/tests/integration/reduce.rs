//! Reductions against naive loops over random shapes and axes.

use crate::common;

use common::random;
use ndarray::{Dimension, IxDyn};
use neurite_tensor::{argmax_axis, max_axis, mean_axis, min_axis, sum_axis, var_axis};
use proptest::prelude::*;

fn shape_and_axis() -> impl Strategy<Value = (Vec<usize>, usize, u64)> {
    (prop::collection::vec(1..5usize, 1..4), any::<u64>()).prop_flat_map(|(shape, seed)| {
        let rank = shape.len();
        (Just(shape), 0..rank, Just(seed))
    })
}

/// All values of the lane through `out_idx` along `axis`.
fn lane(x: &ndarray::ArrayD<f64>, axis: usize, out_idx: &[usize]) -> Vec<f64> {
    (0..x.shape()[axis])
        .map(|i| {
            let mut idx = out_idx.to_vec();
            idx.insert(axis, i);
            x[IxDyn(&idx)]
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reductions_match_naive((shape, axis, seed) in shape_and_axis()) {
        let x = random::<f64>(&shape, seed);
        let (s, m, v) = (sum_axis(x.view(), axis).unwrap(), mean_axis(x.view(), axis).unwrap(), var_axis(x.view(), axis).unwrap());
        let (mx, mn, am) = (max_axis(x.view(), axis).unwrap(), min_axis(x.view(), axis).unwrap(), argmax_axis(x.view(), axis).unwrap());
        for (idx, &got) in s.indexed_iter() {
            let l = lane(&x, axis, idx.slice());
            let n = l.len() as f64;
            let mean = l.iter().sum::<f64>() / n;
            prop_assert!((got - l.iter().sum::<f64>()).abs() < 1e-12);
            prop_assert!((m[&idx] - mean).abs() < 1e-12);
            prop_assert!((v[&idx] - l.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).abs() < 1e-12);
            prop_assert_eq!(mx[&idx], l.iter().cloned().fold(f64::MIN, f64::max));
            prop_assert_eq!(mn[&idx], l.iter().cloned().fold(f64::MAX, f64::min));
            prop_assert_eq!(l[am[&idx]], mx[&idx]);
        }
    }
}

#[test]
fn argmax_takes_first_on_ties_and_nan() {
    let x = ndarray::array![[1.0f32, 3.0, 3.0], [0.0, f32::NAN, 9.0]].into_dyn();
    assert_eq!(
        argmax_axis(x.view(), 1).unwrap().as_slice().unwrap(),
        &[1, 1]
    );
    assert!(max_axis(x.view(), 1).unwrap()[[1]].is_nan());
}

#[test]
fn bad_axes_are_errors() {
    let x = ndarray::ArrayD::<f32>::zeros(vec![2, 0]);
    assert!(sum_axis(x.view(), 2).is_err());
    assert!(mean_axis(x.view(), 1).is_err());
    assert!(argmax_axis(x.view(), 1).is_err());
    assert_eq!(
        sum_axis(x.view(), 1).unwrap().as_slice().unwrap(),
        &[0.0, 0.0]
    );
}
