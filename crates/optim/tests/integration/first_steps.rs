//! Each optimizer's first steps on a tiny tensor, against values worked out by hand from the
//! published (Keras) update rules. The arithmetic is in the comments; f64 throughout.

use ndarray::ArrayD;
use neurite_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use neurite_tensor::Param;

/// Runs one step per gradient on a scalar parameter starting at `w0`; returns w after each step.
fn trace(opt: &mut dyn Optimizer<f64>, w0: f64, grads: &[f64]) -> Vec<f64> {
    let mut p = Param::new("w", ArrayD::from_elem(vec![1], w0));
    grads
        .iter()
        .map(|&g| {
            p.grad_mut().fill(g);
            opt.step(&mut [&mut p]).unwrap();
            p.value()[[0]]
        })
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "step {}: got {g:.17}, want {w:.17}",
            i + 1
        );
    }
}

#[test]
fn sgd_plain() {
    // w -= lr * g with lr = 0.1: 1 - 0.05 = 0.95, then 0.95 + 0.1 = 1.05, then 1.05 - 0.2 = 0.85.
    let mut opt = Sgd::with_learning_rate(0.1).unwrap();
    assert_close(
        &trace(&mut opt, 1.0, &[0.5, -1.0, 2.0]),
        &[0.95, 1.05, 0.85],
        1e-15,
    );
}

#[test]
fn sgd_momentum() {
    // Keras: m = momentum * m - lr * g; w += m.  lr 0.1, momentum 0.9, g = 1 each step.
    // m1 = -0.1,                 w1 = 1 - 0.1   = 0.9
    // m2 = 0.9 * -0.1 - 0.1   = -0.19,  w2 = 0.9 - 0.19 = 0.71
    // m3 = 0.9 * -0.19 - 0.1  = -0.271, w3 = 0.71 - 0.271 = 0.439
    let config = SgdConfig {
        learning_rate: 0.1.into(),
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let mut opt = Sgd::new(config).unwrap();
    assert_close(&trace(&mut opt, 1.0, &[1.0; 3]), &[0.9, 0.71, 0.439], 1e-15);
}

#[test]
fn sgd_nesterov() {
    // Keras: m = momentum * m - lr * g; w += momentum * m - lr * g.  lr 0.1, momentum 0.9, g = 1.
    // m1 = -0.1:   w1 = 1 + (0.9 * -0.1 - 0.1)      = 1 - 0.19     = 0.81
    // m2 = -0.19:  w2 = 0.81 + (0.9 * -0.19 - 0.1)  = 0.81 - 0.271 = 0.539
    // m3 = -0.271: w3 = 0.539 + (0.9 * -0.271 - 0.1) = 0.539 - 0.3439 = 0.1951
    let config = SgdConfig {
        learning_rate: 0.1.into(),
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    let mut opt = Sgd::new(config).unwrap();
    assert_close(
        &trace(&mut opt, 1.0, &[1.0; 3]),
        &[0.81, 0.539, 0.1951],
        1e-15,
    );
}

#[test]
fn adam_keras_defaults() {
    // lr 1e-3, beta_1 0.9, beta_2 0.999, eps 1e-7; g = 1, -0.5, 2.
    // t=1: m = 0.1, v = 0.001, alpha = 1e-3 * sqrt(1 - 0.999) / (1 - 0.9) = 3.1622776601683816e-4
    //      w = 1 - 0.1 * alpha / (sqrt(0.001) + 1e-7) = 1 - 3.1622776e-5 / 0.0316228766
    //        = 0.9990000031622677
    // t=2: m = 0.1 + (-0.5 - 0.1) * 0.1 = 0.04, v = 0.001 + (0.25 - 0.001) * 0.001 = 0.001249
    //      alpha = 1e-3 * sqrt(1 - 0.998001) / (1 - 0.81) = 2.3531672532745276e-4
    //      w = 0.9990000031622677 - 0.04 * alpha / (sqrt(0.001249) + 1e-7) = 0.9987336668762216
    // t=3: m = 0.04 + (2 - 0.04) * 0.1 = 0.236, v = 0.001249 + (4 - 0.001249) * 0.001 = 0.005247751
    //      alpha = 1e-3 * sqrt(1 - 0.999^3) / (1 - 0.9^3) = 2.020105974389679e-4
    //      w = 0.9987336668762216 - 0.236 * alpha / (sqrt(0.005247751) + 1e-7) = 0.9980755561844408
    let mut opt = Adam::default();
    let want = [0.9990000031622677, 0.9987336668762216, 0.9980755561844408];
    assert_close(&trace(&mut opt, 1.0, &[1.0, -0.5, 2.0]), &want, 1e-15);
}

#[test]
fn adam_puts_epsilon_on_the_uncorrected_root_like_keras_not_pytorch() {
    // g = 1e-6 at t = 1: m = 1e-7, v = 1e-15, sqrt(v) = 3.1622776601683794e-8.
    // Keras: step = m * alpha / (sqrt(v) + eps) with alpha = 1e-3 * sqrt(1e-3) / 0.1
    //        = 1e-7 * 3.1622776601683816e-4 / (3.1622776601683794e-8 + 1e-7) = 2.4025307335204e-4
    // PyTorch (eps 1e-7 on the corrected root): 1e-3 * 1e-6 / (1e-6 + 1e-7) = 9.0909e-4.
    let mut opt = Adam::default();
    let w = trace(&mut opt, 0.0, &[1e-6])[0];
    let keras = 1e-7 * (1e-3 * 1e-3f64.sqrt() / 0.1) / (1e-15f64.sqrt() + 1e-7);
    assert!((w + keras).abs() < 1e-18, "{w} vs {}", -keras);
    assert!((w + 9.0909e-4).abs() > 1e-4);
}

#[test]
fn adam_amsgrad_keeps_the_largest_second_moment() {
    // beta_2 = 0.5 so v shrinks fast: g = 1 then 0.
    // t=1: m = 0.1, v = 0.5, v_hat = 0.5, alpha = 0.1 * sqrt(0.5) / 0.1 = sqrt(0.5)
    //      w = -0.1 * sqrt(0.5) / (sqrt(0.5) + 1e-7) = -0.09999985857864376
    // t=2: m = 0.09, v = 0.25 but v_hat stays 0.5, alpha = 0.1 * sqrt(0.75) / 0.19
    //      w -= 0.09 * alpha / (sqrt(0.5) + 1e-7)
    let config = AdamConfig {
        learning_rate: 0.1.into(),
        beta_2: 0.5,
        amsgrad: true,
        ..AdamConfig::default()
    };
    let mut opt = Adam::new(config).unwrap();
    let got = trace(&mut opt, 0.0, &[1.0, 0.0]);
    let w1 = -0.1 * 0.5f64.sqrt() / (0.5f64.sqrt() + 1e-7);
    let w2 = w1 - 0.09 * (0.1 * 0.75f64.sqrt() / 0.19) / (0.5f64.sqrt() + 1e-7);
    assert_close(&got, &[w1, w2], 1e-15);
}

#[test]
fn adamw_decays_the_weight_before_the_adam_update() {
    // lr 0.01, weight_decay 0.1, w = 2, g = 1.
    // decay: w = 2 - 2 * 0.1 * 0.01 = 1.998
    // Adam:  m = 0.1, v = 0.001, alpha = 0.01 * sqrt(0.001) / 0.1 = 3.1622776601683794e-3
    //        w = 1.998 - 0.1 * alpha / (sqrt(0.001) + 1e-7) = 1.998 - 0.0099999683773 = 1.9880000316226767
    let mut opt = Adam::adamw(0.01, 0.1).unwrap();
    assert_eq!(opt.name(), "AdamW");
    assert_close(&trace(&mut opt, 2.0, &[1.0]), &[1.9880000316226767], 1e-15);
}

#[test]
fn rmsprop_plain() {
    // Keras docstring example: lr 0.1, rho 0.9, w = 10, g = 10 then 5.
    // v1 = 0.1 * 100 = 10;           w1 = 10 - 0.1 * 10 / sqrt(10 + 1e-7) = 9.683772235564302
    // v2 = 0.9 * 10 + 0.1 * 25 = 11.5; w2 = w1 - 0.1 * 5 / sqrt(11.5 + 1e-7) = 9.536330280050457
    let config = RmsPropConfig {
        learning_rate: 0.1.into(),
        ..RmsPropConfig::default()
    };
    let mut opt = RmsProp::new(config).unwrap();
    let want = [9.683772235564302, 9.536330280050457];
    assert_close(&trace(&mut opt, 10.0, &[10.0, 5.0]), &want, 1e-14);
}

#[test]
fn rmsprop_centered_with_momentum() {
    // lr 0.1, rho 0.9, momentum 0.5, centered; w = 10, g = 10 then 5.
    // t=1: v = 10, a = 1, inc = 0.1 * 10 / sqrt(10 - 1 + 1e-7) = 0.3333333314814815
    //      mom = inc, w = 9.666666668518518
    // t=2: v = 11.5, a = 0.9 + 0.5 = 1.4, inc = 0.5 / sqrt(11.5 - 1.96 + 1e-7) = 0.16188097621111122
    //      mom = 0.5 * 0.3333333314814815 + inc = 0.32854764195185193, w = 9.338119026566666
    let config = RmsPropConfig {
        learning_rate: 0.1.into(),
        momentum: 0.5,
        centered: true,
        ..RmsPropConfig::default()
    };
    let mut opt = RmsProp::new(config).unwrap();
    let want = [9.666666668518518, 9.338119026566666];
    assert_close(&trace(&mut opt, 10.0, &[10.0, 5.0]), &want, 1e-14);
    let names: Vec<String> = opt.state().tensors.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["w/average_gradient", "w/momentum", "w/velocity"]);
}

#[test]
fn adagrad() {
    // lr 0.1, initial accumulator 0.1, eps 1e-7; w = 1, g = 0.3 then 0.4.
    // acc = 0.1 + 0.09 = 0.19: w = 1 - 0.03 / sqrt(0.19 + 1e-7)  = 0.9311752979505927
    // acc = 0.19 + 0.16 = 0.35: w -= 0.04 / sqrt(0.35 + 1e-7)   -> 0.8635629672312151
    let config = AdagradConfig {
        learning_rate: 0.1.into(),
        ..AdagradConfig::default()
    };
    let mut opt = Adagrad::new(config).unwrap();
    let want = [0.9311752979505927, 0.8635629672312151];
    assert_close(&trace(&mut opt, 1.0, &[0.3, 0.4]), &want, 1e-15);
}

#[test]
fn f32_matches_f64_to_single_precision() {
    let mut p32 = Param::new("w", ArrayD::from_elem(vec![3], 1.0f32));
    let mut p64 = Param::new("w", ArrayD::from_elem(vec![3], 1.0f64));
    let mut o32 = Adam::<f32>::default();
    let mut o64 = Adam::<f64>::default();
    for g in [1.0, -0.5, 2.0] {
        p32.grad_mut().fill(g as f32);
        p64.grad_mut().fill(g);
        o32.step(&mut [&mut p32]).unwrap();
        o64.step(&mut [&mut p64]).unwrap();
    }
    for (a, b) in p32.value().iter().zip(p64.value()) {
        assert!((*a as f64 - b).abs() < 1e-7);
    }
}
