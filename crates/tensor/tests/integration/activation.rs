//! Activations: values against their textbook formulas, derivatives against central differences.

use neurite_tensor::Activation;
use proptest::prelude::*;

const ALL: [Activation; 8] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { alpha: 0.3 },
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Elu { alpha: 1.0 },
    Activation::Gelu,
    Activation::Softplus,
];

/// The plain-formula definition, in f64, independent of the stable forms used by the library.
fn reference(act: Activation, x: f64) -> f64 {
    match act {
        Activation::Linear => x,
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * x
            }
        }
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Tanh => (x.exp() - (-x).exp()) / (x.exp() + (-x).exp()),
        Activation::Elu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * (x.exp() - 1.0)
            }
        }
        Activation::Gelu => 0.5 * x * (1.0 + libm_erf(x / 2f64.sqrt())),
        Activation::Softplus => (1.0 + x.exp()).ln(),
        Activation::Softmax => unreachable!("ALL lists the elementwise activations only"),
    }
}

/// erf by its Maclaurin series (converges fast for |x| < 3, which is the tested range).
fn libm_erf(x: f64) -> f64 {
    let mut term = x;
    let mut sum = x;
    for n in 1..80 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn values_match_formulas(x in -4.0..4.0f64) {
        for act in ALL {
            let got = act.apply(x);
            let want = reference(act, x);
            prop_assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{act:?} at {x}: {got} vs {want}");
            let got32 = act.apply(x as f32) as f64;
            prop_assert!((got32 - want).abs() <= 1e-6 * want.abs().max(1.0), "{act:?} f32 at {x}: {got32} vs {want}");
        }
    }

    #[test]
    fn derivatives_match_central_differences(x in -4.0..4.0f64) {
        // Kinks at 0 are avoided by construction: differences there are not derivatives.
        prop_assume!(x.abs() > 1e-3);
        let h = 1e-6;
        for act in ALL {
            let numeric = (act.apply(x + h) - act.apply(x - h)) / (2.0 * h);
            let analytic = act.derivative(x, act.apply(x));
            prop_assert!((numeric - analytic).abs() <= 1e-7 * analytic.abs().max(1.0), "{act:?} at {x}: {analytic} vs {numeric}");
        }
    }
}

#[test]
fn extreme_inputs_stay_finite() {
    for act in ALL {
        for x in [-1e4f32, -100.0, 100.0, 1e4] {
            let y = act.apply(x);
            assert!(y.is_finite(), "{act:?}({x}) = {y}");
            assert!(act.derivative(x, y).is_finite(), "{act:?}'({x})");
        }
    }
    assert_eq!(Activation::Sigmoid.apply(-1e4f32), 0.0);
    assert_eq!(Activation::Softplus.apply(1e4f32), 1e4);
}

#[test]
fn array_forward_and_backward() {
    let x = ndarray::array![[-1.0f64, 2.0], [0.5, -0.25]].into_dyn();
    let mut y = x.clone();
    Activation::Relu.forward(x.view(), y.view_mut()).unwrap();
    assert_eq!(y, ndarray::array![[0.0, 2.0], [0.5, 0.0]].into_dyn());
    let d_y = ndarray::ArrayD::from_elem(vec![2, 2], 3.0);
    let mut d_x = d_y.clone();
    Activation::Relu
        .backward(x.view(), y.view(), d_y.view(), d_x.view_mut())
        .unwrap();
    assert_eq!(d_x, ndarray::array![[0.0, 3.0], [3.0, 0.0]].into_dyn());
    let wrong = ndarray::ArrayD::<f64>::zeros(vec![3]);
    assert!(
        Activation::Tanh
            .forward(wrong.view(), y.view_mut())
            .is_err()
    );
}

#[test]
fn large_arrays_take_the_parallel_path_identically() {
    let x = ndarray::ArrayD::from_shape_fn(vec![1 << 16], |i| (i[0] as f32 * 0.001).sin() * 5.0);
    let mut y = x.clone();
    Activation::Gelu.forward(x.view(), y.view_mut()).unwrap();
    for (a, b) in x.iter().zip(&y) {
        assert_eq!(Activation::Gelu.apply(*a), *b);
    }
}

#[test]
fn softmax_runs_along_axis_1_and_has_no_scalar_form() {
    let x = ndarray::arr2(&[[0.0f64, 2f64.ln()], [1.0, 1.0]]).into_dyn();
    let mut y = ndarray::ArrayD::zeros(x.raw_dim());
    Activation::Softmax.forward(x.view(), y.view_mut()).unwrap();
    let expected = ndarray::arr2(&[[1.0 / 3.0, 2.0 / 3.0], [0.5, 0.5]]).into_dyn();
    assert!(
        y.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-15),
        "{y}"
    );
    assert!(!Activation::Softmax.is_elementwise());
    assert!(ALL.iter().all(|a| a.is_elementwise()));
    assert!(std::panic::catch_unwind(|| Activation::Softmax.apply(0.0f64)).is_err());
}
