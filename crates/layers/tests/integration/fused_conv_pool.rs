//! A `Sequential` runs Conv2D + ReLU + 2x2 MaxPooling2D as one pass in f32: the model's outputs
//! must equal those of the same layers run one by one bit for bit, and its gradients agree to
//! rounding, whether the convolution is the first layer (no input gradient) or not.

use ndarray::ArrayD;
use neurite_layers::{
    Activation, Backward, Conv2D, Dense, Flatten, MaxPooling2D, Mode, Sequential,
};
use neurite_tensor::{Padding, Rng};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    n: usize,
    c: usize,
    f: usize,
    size: (usize, usize),
    kernel: (usize, usize),
    same: bool,
    /// A 1x1 convolution before the pair, so the pair must pass an input gradient down.
    below: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (1..=4usize, 1..=3usize, 1..=9usize),
        ((4..=20usize, 4..=20usize), (1..=3usize, 1..=3usize)),
        (any::<bool>(), any::<bool>(), any::<u64>()),
    )
        .prop_map(|((n, c, f), (size, kernel), (same, below, seed))| Case {
            n,
            c,
            f,
            size,
            kernel,
            same,
            below,
            seed,
        })
}

fn model(case: &Case) -> Sequential<f32> {
    let padding = if case.same {
        Padding::Same
    } else {
        Padding::Valid
    };
    let mut model = Sequential::with_seed(case.seed);
    if case.below {
        model = model.add(Conv2D::new(case.c, (1, 1)));
    }
    let mut model = model
        .add(
            Conv2D::new(case.f, case.kernel)
                .padding(padding)
                .activation(Activation::Relu),
        )
        .add(MaxPooling2D::new((2, 2)))
        .add(Flatten::new())
        .add(Dense::new(3));
    model.build(&[case.c, case.size.0, case.size.1]).unwrap();
    model
}

/// The layers of `model` run one by one (no pair fused): output and parameter gradients.
fn one_by_one(model: &mut Sequential<f32>, x: &ArrayD<f32>, d_out: &ArrayD<f32>) -> ArrayD<f32> {
    let layers = model.layers_mut();
    let mut out = x.clone();
    for layer in layers.iter_mut() {
        out = layer.forward(out.view(), Mode::Train).unwrap().to_owned();
    }
    let mut d = d_out.clone();
    for (i, layer) in layers.iter_mut().enumerate().rev() {
        let opts = Backward {
            need_input_grad: i > 0,
            from_logits: false,
        };
        layer.backward(d.view(), opts).unwrap();
        if i > 0 {
            d = layer.input_grad().to_owned();
        }
    }
    out
}

fn check(case: &Case) {
    let mut fused = model(case);
    let mut plain = model(case);
    let mut rng = Rng::new(case.seed ^ 1);
    let shape = [case.n, case.c, case.size.0, case.size.1];
    let x = ArrayD::from_shape_simple_fn(&shape[..], || rng.uniform(-1.0, 1.0) as f32);
    let d_out = ArrayD::from_shape_simple_fn(&[case.n, 3][..], || rng.uniform(-1.0, 1.0) as f32);

    let want = one_by_one(&mut plain, &x, &d_out);
    let got = fused.forward(x.view(), Mode::Train).unwrap().to_owned();
    let conv = usize::from(case.below);
    let conv_ckk = case.c * case.kernel.0 * case.kernel.1;
    if conv_ckk <= 32 {
        // The pair ran as one pass: the convolution's own output was never written.
        assert_eq!(
            fused.layers()[conv].output().len(),
            0,
            "{case:?}: not fused"
        );
    }
    let bits = |a: &ArrayD<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want), "{case:?}: outputs differ");
    let pooled = |m: &Sequential<f32>| m.layers()[conv + 1].output().to_owned();
    assert_eq!(
        bits(&pooled(&fused)),
        bits(&pooled(&plain)),
        "{case:?}: pooled"
    );

    fused.backward(d_out.view()).unwrap();
    for ((name, g), (_, w)) in fused.params().iter().zip(plain.params()) {
        let (g, w) = (g.grad(), w.grad());
        let scale = w.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (a, b) in g.iter().zip(w.iter()) {
            let tol = 1e-5 * scale * (case.n * 400) as f32;
            assert!((a - b).abs() <= tol, "{case:?}: {name}: {a} vs {b}");
        }
    }
    if case.below {
        // The pair's input gradient reached the layer below: its weight gradient is not zero
        // (its input is random and the dense layer's output gradient too).
        let below = &fused.params()[0].1;
        assert!(
            below.grad().iter().any(|&v| v != 0.0),
            "{case:?}: nothing passed down"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fused_pass_matches_the_layers_one_by_one(case in case()) {
        check(&case);
    }
}

/// The reference CNN's first layer and pool: 28x28 digits, 32 filters 3x3.
fn reference() -> Case {
    Case {
        n: 16,
        c: 1,
        f: 32,
        size: (28, 28),
        kernel: (3, 3),
        same: false,
        below: false,
        seed: 3,
    }
}

#[test]
fn reference_cnn_first_layer() {
    check(&reference());
}

/// The reference CNN's second convolution and pool, shrunk: a 3x3 convolution with channels
/// enough for the Winograd strategy, which then computes only the pooled tiles (11x11 outputs
/// pool to 5x5: the last row and column are never computed).
#[test]
fn winograd_pair_matches_the_layers_one_by_one() {
    for (same, below) in [(false, true), (true, false)] {
        let case = Case {
            n: 5,
            c: 8,
            f: 16,
            size: (13, 13),
            kernel: (3, 3),
            same,
            below,
            seed: 11,
        };
        check(&case);
        let mut model = model(&case);
        let x = ArrayD::<f32>::ones(vec![5, 8, 13, 13]);
        model.forward(x.view(), Mode::Train).unwrap();
        let conv = usize::from(below);
        assert_eq!(
            model.layers()[conv].output().len(),
            0,
            "{case:?}: not fused"
        );
    }
}

#[test]
fn the_pool_alone_cannot_go_back_through_a_fused_pass() {
    let case = Case {
        n: 2,
        f: 2,
        size: (8, 8),
        ..reference()
    };
    let mut model = model(&case);
    let x = ArrayD::<f32>::ones(vec![2, 1, 8, 8]);
    model.forward(x.view(), Mode::Train).unwrap();
    let d = ArrayD::<f32>::ones(vec![2, 2, 3, 3]);
    let pool = &mut model.layers_mut()[1];
    assert!(pool.backward(d.view(), Backward::FULL).is_err());
    let conv = &mut model.layers_mut()[0];
    let d = ArrayD::<f32>::ones(vec![2, 2, 6, 6]);
    assert!(conv.backward(d.view(), Backward::FULL).is_err());
}
