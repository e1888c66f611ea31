//! Gradient clipping (Keras clipvalue / clipnorm / global_clipnorm), the L2 term and decoupled
//! weight decay, checked on plain SGD with rate 1 so that `w` moves by exactly minus the
//! effective gradient.

use ndarray::ArrayD;
use neurite_optim::{Clip, Optimizer, Sgd, SgdConfig};
use neurite_tensor::Param;

fn sgd(clip: Clip, l2: f64, weight_decay: f64) -> Sgd<f64> {
    Sgd::new(SgdConfig {
        learning_rate: 1.0.into(),
        clip,
        l2,
        weight_decay,
        ..Default::default()
    })
    .unwrap()
}

fn param(name: &str, value: &[f64], grad: &[f64]) -> Param<f64> {
    let mut p = Param::new(
        name,
        ArrayD::from_shape_vec(vec![value.len()], value.to_vec()).unwrap(),
    );
    p.grad_mut()
        .assign(&ArrayD::from_shape_vec(vec![grad.len()], grad.to_vec()).unwrap());
    p
}

fn values(p: &Param<f64>) -> Vec<f64> {
    p.value().iter().copied().collect()
}

#[test]
fn clip_by_value_clamps_each_element() {
    let mut p = param("w", &[0.0; 3], &[2.0, -0.3, -7.0]);
    sgd(Clip::Value(0.5), 0.0, 0.0).step(&mut [&mut p]).unwrap();
    // g -> [0.5, -0.3, -0.5]
    assert_eq!(values(&p), [-0.5, 0.3, 0.5]);
}

#[test]
fn clip_by_norm_caps_each_tensor_separately() {
    // a: |[3, 4]| = 5 > 1 -> scaled by 1/5; b: |[0.3, 0.4]| = 0.5 <= 1 -> unchanged.
    let mut a = param("a", &[0.0, 0.0], &[3.0, 4.0]);
    let mut b = param("b", &[0.0, 0.0], &[0.3, 0.4]);
    sgd(Clip::Norm(1.0), 0.0, 0.0)
        .step(&mut [&mut a, &mut b])
        .unwrap();
    assert_eq!(values(&a), [-0.6, -0.8]);
    assert_eq!(values(&b), [-0.3, -0.4]);
}

#[test]
fn clip_by_global_norm_scales_all_tensors_together() {
    // global norm = sqrt(9 + 16 + 144) = 13 -> every gradient times 1/13.
    let mut a = param("a", &[0.0, 0.0], &[3.0, 4.0]);
    let mut b = param("b", &[0.0, 0.0], &[0.0, 12.0]);
    sgd(Clip::GlobalNorm(1.0), 0.0, 0.0)
        .step(&mut [&mut a, &mut b])
        .unwrap();
    let close = |x: f64, y: f64| (x - y).abs() < 1e-15;
    assert!(close(a.value()[[0]], -3.0 / 13.0) && close(a.value()[[1]], -4.0 / 13.0));
    assert!(close(b.value()[[0]], 0.0) && close(b.value()[[1]], -12.0 / 13.0));
    // Below the threshold nothing changes.
    let mut c = param("c", &[0.0], &[0.5]);
    sgd(Clip::GlobalNorm(1.0), 0.0, 0.0)
        .step(&mut [&mut c])
        .unwrap();
    assert_eq!(values(&c), [-0.5]);
}

#[test]
fn a_non_finite_global_norm_poisons_every_gradient_as_in_keras() {
    let mut a = param("a", &[0.0], &[f64::INFINITY]);
    let mut b = param("b", &[0.0], &[1.0]);
    sgd(Clip::GlobalNorm(1.0), 0.0, 0.0)
        .step(&mut [&mut a, &mut b])
        .unwrap();
    assert!(a.value()[[0]].is_nan() && b.value()[[0]].is_nan());
}

#[test]
fn clip_by_value_keeps_nan_visible() {
    let mut a = param("a", &[0.0], &[f64::NAN]);
    sgd(Clip::Value(1.0), 0.0, 0.0).step(&mut [&mut a]).unwrap();
    assert!(a.value()[[0]].is_nan());
}

#[test]
fn l2_is_added_to_the_gradient_before_clipping() {
    // g_eff = g + l2 * w = 1 + 0.5 * 2 = 2 -> w = 2 - 2 = 0 (lr 1).
    let mut p = param("w", &[2.0], &[1.0]);
    sgd(Clip::None, 0.5, 0.0).step(&mut [&mut p]).unwrap();
    assert_eq!(values(&p), [0.0]);
    // With clipnorm 1: |[1 + 0.5*2, 0 + 0.5*(-4)]| = |[2, -2]| = 2.828... -> scaled to norm 1.
    let mut p = param("w", &[2.0, -4.0], &[1.0, 0.0]);
    sgd(Clip::Norm(1.0), 0.5, 0.0).step(&mut [&mut p]).unwrap();
    let h = 0.5f64.sqrt();
    assert!((p.value()[[0]] - (2.0 - h)).abs() < 1e-15);
    assert!((p.value()[[1]] - (-4.0 + h)).abs() < 1e-15);
}

#[test]
fn decoupled_weight_decay_shrinks_by_lr_times_decay() {
    // lr 0.1 (set below), wd 0.5: w = 4 - 4 * 0.5 * 0.1 = 3.8, then w -= 0.1 * g = 3.8 - 0.1 = 3.7.
    let mut opt = sgd(Clip::None, 0.0, 0.5);
    opt.set_learning_rate(0.1).unwrap();
    let mut p = param("w", &[4.0], &[1.0]);
    opt.step(&mut [&mut p]).unwrap();
    assert!((p.value()[[0]] - 3.7).abs() < 1e-15);
}

#[test]
fn non_trainable_params_are_skipped_and_keep_no_state() {
    let mut frozen = Param::non_trainable("bn.mean", ArrayD::from_elem(vec![2], 5.0));
    frozen.grad_mut().fill(1.0);
    let mut p = param("w", &[0.0], &[1.0]);
    let mut opt = sgd(Clip::GlobalNorm(0.5), 0.0, 0.1);
    opt.step(&mut [&mut frozen, &mut p]).unwrap();
    assert_eq!(values(&frozen), [5.0, 5.0]);
    // The frozen gradient does not count towards the global norm: g = 1 -> scaled to 0.5.
    assert_eq!(values(&p), [-0.5]);
}
