//! Initializers: Keras' bounds and variances, reproducibility, and argument errors.

use neurite_tensor::{Fans, Initializer, Rng};

fn stats(v: &ndarray::ArrayD<f64>) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.sum() / n;
    (mean, v.mapv(|x| (x - mean).powi(2)).sum() / n)
}

#[test]
fn variance_scaling_matches_keras() {
    let fans = Fans::dense(300, 100);
    let shape = [300, 100];
    let cases: [(Initializer, f64, Option<f64>); 6] = [
        (
            Initializer::GlorotUniform,
            2.0 / 400.0,
            Some((6.0f64 / 400.0).sqrt()),
        ),
        (Initializer::GlorotNormal, 2.0 / 400.0, None),
        (
            Initializer::HeUniform,
            2.0 / 300.0,
            Some((6.0f64 / 300.0).sqrt()),
        ),
        (Initializer::HeNormal, 2.0 / 300.0, None),
        (
            Initializer::LecunUniform,
            1.0 / 300.0,
            Some((3.0f64 / 300.0).sqrt()),
        ),
        (Initializer::LecunNormal, 1.0 / 300.0, None),
    ];
    for (init, var, limit) in cases {
        let w = init.init::<f64>(&shape, fans, &mut Rng::new(1)).unwrap();
        let (mean, got_var) = stats(&w);
        assert!(
            mean.abs() < 0.01 * var.sqrt() * 10.0,
            "{init:?} mean {mean}"
        );
        assert!(
            (got_var / var - 1.0).abs() < 0.03,
            "{init:?} variance {got_var}, want {var}"
        );
        let bound = limit.unwrap_or(2.0 * var.sqrt() / 0.879_625_661_034_239_8);
        assert!(
            w.iter().all(|v| v.abs() <= bound + 1e-12),
            "{init:?} exceeds {bound}"
        );
    }
}

#[test]
fn same_seed_same_weights() {
    let a = Initializer::HeNormal
        .init::<f32>(&[3, 4, 5], Fans::conv2d(3, 4, 5, 5), &mut Rng::new(9))
        .unwrap();
    let b = Initializer::HeNormal
        .init::<f32>(&[3, 4, 5], Fans::conv2d(3, 4, 5, 5), &mut Rng::new(9))
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn constants_and_plain_distributions() {
    let mut rng = Rng::new(2);
    let fans = Fans::dense(1, 1);
    assert!(
        Initializer::Zeros
            .init::<f32>(&[4], fans, &mut rng)
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(
        Initializer::Ones
            .init::<f32>(&[4], fans, &mut rng)
            .unwrap()
            .iter()
            .all(|&v| v == 1.0)
    );
    assert!(
        Initializer::Constant { value: 0.25 }
            .init::<f64>(&[4], fans, &mut rng)
            .unwrap()
            .iter()
            .all(|&v| v == 0.25)
    );
    let u = Initializer::Uniform {
        low: -0.05,
        high: 0.05,
    }
    .init::<f64>(&[10_000], fans, &mut rng)
    .unwrap();
    assert!(u.iter().all(|v| (-0.05..0.05).contains(v)));
    let n = Initializer::Normal {
        mean: 1.0,
        std: 0.5,
    }
    .init::<f64>(&[100_000], fans, &mut rng)
    .unwrap();
    let (mean, var) = stats(&n);
    assert!(
        (mean - 1.0).abs() < 0.01 && (var - 0.25).abs() < 0.01,
        "{mean} {var}"
    );
}

#[test]
fn bad_arguments_are_errors() {
    let mut rng = Rng::new(0);
    let fans = Fans::dense(2, 2);
    assert!(
        Initializer::Uniform {
            low: 1.0,
            high: 0.0
        }
        .init::<f32>(&[2], fans, &mut rng)
        .is_err()
    );
    assert!(
        Initializer::Normal {
            mean: 0.0,
            std: -1.0
        }
        .init::<f32>(&[2], fans, &mut rng)
        .is_err()
    );
    assert!(
        Initializer::Normal {
            mean: f64::NAN,
            std: 1.0
        }
        .init::<f32>(&[2], fans, &mut rng)
        .is_err()
    );
    assert!(
        Initializer::HeNormal
            .init::<f32>(&[2], Fans::dense(0, 0), &mut rng)
            .is_err()
    );
}
