//! Optimizers minimize a convex quadratic: f(w) = 1/2 * sum_i a_i (w_i - c_i)^2, whose gradient
//! is a_i (w_i - c_i) and whose minimum is w = c. Curvatures a_i span 1..10 (condition 10).

use ndarray::ArrayD;
use neurite_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, CosineDecay, Optimizer, RmsProp, RmsPropConfig, Sgd,
    SgdConfig,
};
use neurite_tensor::Param;

const N: usize = 20;

fn curvature(i: usize) -> f32 {
    1.0 + 9.0 * i as f32 / (N - 1) as f32
}

fn target(i: usize) -> f32 {
    (i as f32 * 0.7).sin() * 3.0
}

/// Runs `steps` steps from w = 0; returns the largest distance to the minimum.
fn minimize(opt: &mut dyn Optimizer<f32>, steps: usize) -> f32 {
    let mut p = Param::new("w", ArrayD::<f32>::zeros(vec![N]));
    for _ in 0..steps {
        let (w, g) = p.value_and_grad_mut();
        for i in 0..N {
            g[[i]] = curvature(i) * (w[[i]] - target(i));
        }
        opt.step(&mut [&mut p]).unwrap();
    }
    (0..N)
        .map(|i| (p.value()[[i]] - target(i)).abs())
        .fold(0.0, f32::max)
}

#[test]
fn sgd_converges() {
    // lr < 2 / a_max = 0.2 is stable; the slowest mode contracts by 1 - 0.1 per step.
    let mut opt = Sgd::with_learning_rate(0.1).unwrap();
    assert!(minimize(&mut opt, 300) < 1e-5);
}

#[test]
fn sgd_with_momentum_and_nesterov_converge() {
    for nesterov in [false, true] {
        let config = SgdConfig {
            learning_rate: 0.05.into(),
            momentum: 0.9,
            nesterov,
            ..Default::default()
        };
        let mut opt = Sgd::new(config).unwrap();
        assert!(minimize(&mut opt, 400) < 1e-4, "nesterov = {nesterov}");
    }
}

#[test]
fn adam_converges() {
    // A decaying rate lets Adam settle instead of hovering at the scale of the rate.
    let schedule = CosineDecay::new(0.1, 1500, 0.0);
    let config = AdamConfig {
        learning_rate: schedule.into(),
        ..Default::default()
    };
    let mut opt = Adam::new(config).unwrap();
    assert!(minimize(&mut opt, 1500) < 1e-3);
}

#[test]
fn adam_with_a_constant_rate_gets_close() {
    let mut opt = Adam::with_learning_rate(0.01).unwrap();
    assert!(minimize(&mut opt, 3000) < 1e-2);
}

#[test]
fn rmsprop_and_adagrad_converge() {
    let schedule = CosineDecay::new(0.05, 1500, 0.0);
    let rms = RmsPropConfig {
        learning_rate: schedule.into(),
        ..Default::default()
    };
    assert!(minimize(&mut RmsProp::new(rms).unwrap(), 1500) < 1e-3);
    let ada = AdagradConfig {
        learning_rate: 0.5.into(),
        ..Default::default()
    };
    assert!(minimize(&mut Adagrad::new(ada).unwrap(), 1500) < 1e-3);
}
