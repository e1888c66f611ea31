//! Conv2D in f32 (neurite's sgemm, output written by the kernel with bias and ReLU fused) against
//! Conv2D in f64 (the generic path the gradient checks verify): same weights, same input, random
//! shapes, strides, paddings and activations; forward output, weight, bias and input gradients.

use ndarray::{ArrayD, IxDyn};
use neurite_layers::{Activation, Backward, Conv2D, Layer, Mode};
use neurite_tensor::{Padding, Rng};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    n: usize,
    c: usize,
    f: usize,
    size: (usize, usize),
    kernel: (usize, usize),
    strides: (usize, usize),
    same: bool,
    activation: Activation,
    use_bias: bool,
    from_logits: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let activation = prop_oneof![
        Just(Activation::Linear),
        Just(Activation::Relu),
        Just(Activation::Tanh),
        Just(Activation::Sigmoid),
    ];
    (
        (1..=5usize, 1..=4usize, 1..=20usize),
        (
            (3..=12usize, 3..=12usize),
            (1..=3usize, 1..=3usize),
            (1..=2usize, 1..=2usize),
        ),
        (
            any::<bool>(),
            activation,
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (n, c, f),
                (size, kernel, strides),
                (same, activation, use_bias, from_logits, seed),
            )| Case {
                n,
                c,
                f,
                size,
                kernel,
                strides,
                same,
                activation,
                use_bias,
                from_logits,
                seed,
            },
        )
}

fn layer<F: neurite_tensor::Float>(case: &Case) -> Conv2D<F> {
    Conv2D::<F>::new(case.f, case.kernel)
        .strides(case.strides)
        .padding(if case.same {
            Padding::Same
        } else {
            Padding::Valid
        })
        .activation(case.activation)
        .use_bias(case.use_bias)
}

fn random(shape: &[usize], rng: &mut Rng) -> ArrayD<f32> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform(-1.0, 1.0) as f32)
}

fn assert_close(got: &ArrayD<f32>, want: &ArrayD<f64>, terms: usize, what: &str, case: &Case) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    let tol = f32::EPSILON as f64 * 4.0 * (terms as f64 + 4.0);
    for ((idx, &g), &w) in got.indexed_iter().zip(want.iter()) {
        assert!(
            (g as f64 - w).abs() <= tol * w.abs().max(1.0),
            "{what} at {idx:?}: f32 {g}, f64 {w}, {case:?}"
        );
    }
}

fn check(case: &Case) {
    let mut rng = Rng::new(case.seed);
    let sample = [case.c, case.size.0, case.size.1];
    let mut l32 = layer::<f32>(case);
    let mut l64 = layer::<f64>(case);
    let out = l32.build(&sample, &mut rng).unwrap();
    l64.build(&sample, &mut rng).unwrap();
    // Same weights in both (values representable in f32), biases away from zero.
    for (p32, p64) in l32.params_mut().into_iter().zip(l64.params_mut()) {
        let v = random(p32.value().shape(), &mut rng);
        p64.assign(v.mapv(f64::from));
        p32.assign(v);
    }
    let x = random(&[case.n, sample[0], sample[1], sample[2]], &mut rng);
    let y32 = l32.forward(x.view(), Mode::Train).unwrap().to_owned();
    let y64 = l64
        .forward(x.mapv(f64::from).view(), Mode::Train)
        .unwrap()
        .to_owned();
    let terms = case.c * case.kernel.0 * case.kernel.1;
    assert_close(&y32, &y64, terms, "output", case);
    let mut shape = vec![case.n];
    shape.extend(out);
    let d_y = random(&shape, &mut rng);
    let opts = Backward {
        need_input_grad: true,
        from_logits: case.from_logits,
    };
    l32.backward(d_y.view(), opts).unwrap();
    l64.backward(d_y.mapv(f64::from).view(), opts).unwrap();
    let batch_terms = case.n * y32.len() / case.n.max(1);
    for (p32, p64) in l32.params().into_iter().zip(l64.params()) {
        assert_close(p32.grad(), p64.grad(), batch_terms, p32.name(), case);
    }
    assert_close(
        &l32.input_grad().to_owned(),
        &l64.input_grad().to_owned(),
        case.f * case.kernel.0 * case.kernel.1,
        "input gradient",
        case,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn f32_kernels_agree_with_the_f64_path(case in case()) {
        check(&case);
    }
}

/// The reference CNN's second convolution at a real batch size: large enough for the parallel
/// split and several K blocks.
#[test]
fn reference_cnn_shapes_agree() {
    check(&Case {
        n: 16,
        c: 32,
        f: 64,
        size: (13, 13),
        kernel: (3, 3),
        strides: (1, 1),
        same: false,
        activation: Activation::Relu,
        use_bias: true,
        from_logits: false,
        seed: 5,
    });
}
