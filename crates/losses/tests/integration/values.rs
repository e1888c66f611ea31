//! Loss values against hand-computed numbers, the fused protocol, and error messages.

use ndarray::{ArrayD, arr1, arr2};
use neurite_losses::{
    BinaryCrossentropy, CategoricalCrossentropy, GradientWrt, Huber, Loss, LossError,
    MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy,
};
use neurite_tensor::Activation;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn regression_values() {
    let p = arr2(&[[1.0, 2.0], [3.0, -1.0]]).into_dyn();
    let t = arr2(&[[0.0, 2.0], [1.0, 1.0]]).into_dyn();
    close(
        MeanSquaredError.loss(p.view(), t.view()).unwrap(),
        (1.0 + 0.0 + 4.0 + 4.0) / 4.0,
    );
    close(
        MeanAbsoluteError.loss(p.view(), t.view()).unwrap(),
        (1.0 + 0.0 + 2.0 + 2.0) / 4.0,
    );
    // Huber(1): 0.5, 0, 1*(2-0.5) twice.
    close(
        Huber::new(1.0).loss(p.view(), t.view()).unwrap(),
        (0.5 + 0.0 + 1.5 + 1.5) / 4.0,
    );
    let mut g = ArrayD::zeros(vec![0]);
    MeanSquaredError
        .gradient(p.view(), t.view(), &mut g)
        .unwrap();
    assert_eq!(g, arr2(&[[0.5, 0.0], [1.0, -1.0]]).into_dyn());
}

#[test]
fn crossentropy_values_and_clipping() {
    let p = arr2(&[[0.0f64, 1.0]]).into_dyn();
    let t = arr2(&[[1.0f64, 0.0]]).into_dyn();
    // p = 0 is clipped to 1e-7: the loss is finite, -ln(1e-7).
    close(
        CategoricalCrossentropy::new()
            .loss(p.view(), t.view())
            .unwrap(),
        -(1e-7f64).ln(),
    );
    let bce = BinaryCrossentropy::new().loss(p.view(), t.view()).unwrap();
    // 1 - (1 - 1e-7) is not exactly 1e-7 in floating point.
    assert!((bce + (1e-7f64).ln()).abs() < 1e-8, "{bce}");
    // From logits: softmax([0, ln 3]) = [1/4, 3/4].
    let z = arr2(&[[0.0f64, 3f64.ln()]]).into_dyn();
    let l = CategoricalCrossentropy::from_logits()
        .loss(z.view(), t.view())
        .unwrap();
    close(l, -(0.25f64).ln());
    let labels = arr1(&[0.0f64]).into_dyn();
    let l = SparseCategoricalCrossentropy::from_logits()
        .loss(z.view(), labels.view())
        .unwrap();
    close(l, -(0.25f64).ln());
    // Huge logits do not overflow.
    let z = arr2(&[[1e4f64, -1e4]]).into_dyn();
    assert!(
        CategoricalCrossentropy::from_logits()
            .loss(z.view(), t.view())
            .unwrap()
            .is_finite()
    );
}

#[test]
fn fused_protocol() {
    let probs = arr2(&[[0.1f64, 0.9], [0.7, 0.3]]).into_dyn();
    let t = arr2(&[[0.0f64, 1.0], [0.0, 1.0]]).into_dyn();
    let mut g = ArrayD::zeros(vec![0]);
    let cce = CategoricalCrossentropy::new();
    let out = cce
        .loss_and_gradient(probs.view(), t.view(), Activation::Softmax, &mut g)
        .unwrap();
    assert_eq!(out.wrt, GradientWrt::Logits);
    let expected = arr2(&[[0.05, -0.05], [0.35, -0.35]]).into_dyn();
    assert!(g.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-15));
    let out = cce
        .loss_and_gradient(probs.view(), t.view(), Activation::Linear, &mut g)
        .unwrap();
    assert_eq!(out.wrt, GradientWrt::Output);
    let out = CategoricalCrossentropy::from_logits()
        .loss_and_gradient(probs.view(), t.view(), Activation::Softmax, &mut g)
        .unwrap();
    assert_eq!(out.wrt, GradientWrt::Output);
    assert_eq!(
        <BinaryCrossentropy as Loss<f64>>::fused_activation(&BinaryCrossentropy::new()),
        Some(Activation::Sigmoid)
    );
    assert_eq!(
        <MeanSquaredError as Loss<f64>>::fused_activation(&MeanSquaredError),
        None
    );
    let err = MeanSquaredError.gradient_wrt_logits(probs.view(), t.view(), &mut g);
    assert!(matches!(err, Err(LossError::NotFusable { .. })));
}

#[test]
fn bad_targets_name_the_row() {
    let p = arr2(&[[0.5f64, 0.5], [0.5, 0.5], [0.5, 0.5]]).into_dyn();
    let sparse = SparseCategoricalCrossentropy::new();
    for (labels, row, needle) in [
        (arr1(&[0.0, 1.0, 2.0]), 2, "label >= 2 classes"),
        (arr1(&[0.0, f64::NAN, 1.0]), 1, "finite"),
        (arr1(&[-1.0, 0.0, 1.0]), 0, "non-negative integers"),
        (arr1(&[0.0, 0.5, 1.0]), 1, "non-negative integers"),
    ] {
        let err = sparse.loss(p.view(), labels.into_dyn().view()).unwrap_err();
        assert!(
            matches!(err, LossError::Target { row: r, .. } if r == row),
            "{err}"
        );
        assert!(err.to_string().contains(needle), "{err}");
        assert!(err.to_string().contains(&format!("row {row}")), "{err}");
    }
    let wrong = arr1(&[0.0, 1.0]).into_dyn();
    assert!(matches!(
        sparse.loss(p.view(), wrong.view()),
        Err(LossError::Shape { .. })
    ));
    let t = arr2(&[[1.0, 0.0], [f64::NAN, 0.0], [0.0, 1.0]]).into_dyn();
    let err = CategoricalCrossentropy::new()
        .loss(p.view(), t.view())
        .unwrap_err();
    assert!(matches!(err, LossError::Target { row: 1, .. }), "{err}");
    let t = arr2(&[[1.0, 0.0], [0.0, 1.0], [0.0, 2.0]]).into_dyn();
    let err = BinaryCrossentropy::new()
        .loss(p.view(), t.view())
        .unwrap_err();
    assert!(matches!(err, LossError::Target { row: 2, .. }), "{err}");
    let t = arr2(&[[1.0, 0.0, 0.0]]).into_dyn();
    assert!(matches!(
        MeanSquaredError.loss(p.view(), t.view()),
        Err(LossError::Shape { .. })
    ));
    assert!(matches!(
        Huber::new(0.0).loss(p.view(), p.view()),
        Err(LossError::Config { .. })
    ));
}

#[test]
fn f32_works() {
    let p = arr2(&[[0.25f32, 0.75]]).into_dyn();
    let labels = arr1(&[1.0f32]).into_dyn();
    let l = SparseCategoricalCrossentropy::new()
        .loss(p.view(), labels.view())
        .unwrap();
    assert!((l + 0.75f32.ln()).abs() < 1e-6);
}

/// A NaN prediction must give a NaN loss (not a clipped, finite one), so that training loops
/// notice the divergence instead of stepping with NaN gradients.
#[test]
fn nan_predictions_give_nan_losses() {
    use neurite_losses::{
        BinaryCrossentropy, CategoricalCrossentropy, Loss, SparseCategoricalCrossentropy,
    };
    let probs = ndarray::arr2(&[[f64::NAN, f64::NAN], [0.5, 0.5]]).into_dyn();
    let one_hot = ndarray::arr2(&[[0.0, 1.0], [1.0, 0.0]]).into_dyn();
    let labels = ndarray::arr1(&[1.0, 0.0]).into_dyn();
    assert!(
        CategoricalCrossentropy::default()
            .loss(probs.view(), one_hot.view())
            .unwrap()
            .is_nan()
    );
    assert!(
        SparseCategoricalCrossentropy::default()
            .loss(probs.view(), labels.view())
            .unwrap()
            .is_nan()
    );
    assert!(
        BinaryCrossentropy::default()
            .loss(probs.view(), one_hot.view())
            .unwrap()
            .is_nan()
    );
    let mut grad = ndarray::ArrayD::zeros(vec![0]);
    let fused = SparseCategoricalCrossentropy::default()
        .loss_and_gradient(probs.view(), labels.view(), Activation::Softmax, &mut grad)
        .unwrap();
    assert!(fused.loss.is_nan());
}
