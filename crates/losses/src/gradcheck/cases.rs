//! The random loss gradient-check cases (the `testing` feature): every loss, its
//! `from_logits` form and its fused gradient, each drawn from a seed.

use neurite_tensor::gradcheck::GradCheck;
use neurite_tensor::{Rng, Tensor};

use super::{Path, check_loss};
use crate::{
    BinaryCrossentropy, CategoricalCrossentropy, Huber, Loss, MeanAbsoluteError, MeanSquaredError,
    Result, SparseCategoricalCrossentropy,
};

/// A named family of random loss gradient checks.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The loss and path under test: `mse`, `categorical_crossentropy+softmax`, ...
    pub name: &'static str,
    /// Runs one random case drawn from `seed`.
    pub run: fn(u64) -> Result<GradCheck>,
}

fn range(rng: &mut Rng, low: usize, high: usize) -> usize {
    low + rng.below((high - low + 1) as u64) as usize
}

fn shape(rng: &mut Rng) -> Vec<usize> {
    let mut s = vec![range(rng, 1, 5)];
    s.extend((0..range(rng, 0, 2)).map(|_| range(rng, 1, 4)));
    s
}

fn uniform(shape: &[usize], rng: &mut Rng, low: f64, high: f64) -> Tensor<f64> {
    Tensor::from_shape_simple_fn(shape, || rng.uniform(low, high))
}

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::from_shape_simple_fn(shape, || rng.normal())
}

/// Predictions whose error `p - t` stays at least 0.01 away from every point in `kinks`.
fn away_from(target: &Tensor<f64>, rng: &mut Rng, kinks: &[f64]) -> Tensor<f64> {
    target.mapv(|t| {
        loop {
            let e = rng.normal();
            if kinks.iter().all(|k| (e.abs() - k).abs() > 0.01) {
                return t + e;
            }
        }
    })
}

fn regression(seed: u64, loss: &dyn Loss<f64>, kinks: &[f64]) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let s = shape(rng);
    let target = normal(&s, rng);
    let pred = away_from(&target, rng, kinks);
    check_loss(loss, &pred, &target, Path::Direct)
}

fn binary_targets(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    let hard = rng.below(2) == 0;
    Tensor::from_shape_simple_fn(shape, || {
        if hard {
            rng.below(2) as f64
        } else {
            rng.next_f64()
        }
    })
}

fn bce(seed: u64, from_logits: bool, path: Path) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let s = shape(rng);
    let target = binary_targets(&s, rng);
    let input = match (from_logits, path) {
        (false, Path::Direct) => uniform(&s, rng, 0.02, 0.98),
        _ => normal(&s, rng).mapv(|v| 2.0 * v),
    };
    let loss = BinaryCrossentropy { from_logits };
    check_loss(&loss, &input, &target, path)
}

fn class_shape(rng: &mut Rng) -> [usize; 2] {
    [range(rng, 1, 5), range(rng, 2, 6)]
}

fn one_hot_targets(shape: [usize; 2], rng: &mut Rng) -> Tensor<f64> {
    let soft = rng.below(2) == 0;
    let mut t = Tensor::zeros(shape.to_vec());
    for i in 0..shape[0] {
        if soft {
            let row: Vec<f64> = (0..shape[1]).map(|_| rng.next_f64() + 0.01).collect();
            let sum: f64 = row.iter().sum();
            for (c, v) in row.iter().enumerate() {
                t[[i, c]] = v / sum;
            }
        } else {
            t[[i, rng.below(shape[1] as u64) as usize]] = 1.0;
        }
    }
    t
}

fn class_input(shape: [usize; 2], rng: &mut Rng, path: Path, from_logits: bool) -> Tensor<f64> {
    if path == Path::Direct && !from_logits {
        uniform(&shape, rng, 0.02, 0.98)
    } else {
        normal(&shape, rng).mapv(|v| 2.0 * v)
    }
}

fn cce(seed: u64, from_logits: bool, path: Path) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let s = class_shape(rng);
    let target = one_hot_targets(s, rng);
    let input = class_input(s, rng, path, from_logits);
    check_loss(
        &CategoricalCrossentropy { from_logits },
        &input,
        &target,
        path,
    )
}

fn sparse(seed: u64, from_logits: bool, path: Path) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let s = class_shape(rng);
    let labels: Vec<f64> = (0..s[0]).map(|_| rng.below(s[1] as u64) as f64).collect();
    let target = if rng.below(2) == 0 {
        Tensor::from_shape_vec(vec![s[0]], labels)
    } else {
        Tensor::from_shape_vec(vec![s[0], 1], labels)
    }
    .expect("one label per row");
    let input = class_input(s, rng, path, from_logits);
    check_loss(
        &SparseCategoricalCrossentropy { from_logits },
        &input,
        &target,
        path,
    )
}

/// Every loss's random case: each loss, its `from_logits` form, and its fused gradient.
pub fn loss_cases() -> Vec<Case> {
    vec![
        Case {
            name: "mean_squared_error",
            run: |s| regression(s, &MeanSquaredError, &[]),
        },
        Case {
            name: "mean_absolute_error",
            run: |s| regression(s, &MeanAbsoluteError, &[0.0]),
        },
        Case {
            name: "huber",
            run: |s| {
                let delta = Rng::with_stream(s, 1).uniform(0.2, 2.0);
                regression(s, &Huber::new(delta), &[delta])
            },
        },
        Case {
            name: "binary_crossentropy",
            run: |s| bce(s, false, Path::Direct),
        },
        Case {
            name: "binary_crossentropy(from_logits)",
            run: |s| bce(s, true, Path::Direct),
        },
        Case {
            name: "binary_crossentropy+sigmoid(fused)",
            run: |s| bce(s, false, Path::FusedSigmoid),
        },
        Case {
            name: "categorical_crossentropy",
            run: |s| cce(s, false, Path::Direct),
        },
        Case {
            name: "categorical_crossentropy(from_logits)",
            run: |s| cce(s, true, Path::Direct),
        },
        Case {
            name: "categorical_crossentropy+softmax(fused)",
            run: |s| cce(s, false, Path::FusedSoftmax),
        },
        Case {
            name: "sparse_categorical_crossentropy",
            run: |s| sparse(s, false, Path::Direct),
        },
        Case {
            name: "sparse_categorical_crossentropy(from_logits)",
            run: |s| sparse(s, true, Path::Direct),
        },
        Case {
            name: "sparse_categorical_crossentropy+softmax(fused)",
            run: |s| sparse(s, false, Path::FusedSoftmax),
        },
    ]
}
