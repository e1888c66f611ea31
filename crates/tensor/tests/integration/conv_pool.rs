//! `ConvReluPool` against the unfused operations it replaces: the same GEMM with bias and ReLU
//! in its epilogue, then `max_pool2d` (pooled values bit for bit, for every kernel this CPU
//! runs), and gradients against f64 loops routed through `max_pool2d`'s winners.

use crate::common;

use common::random;
use ndarray::{Array2, Array4, Ix4};
use neurite_tensor::{
    Bias, ConvReluPool, Epilogue, Kernel, MatMut, MatRef, Padding, Window2d, im2col_wide,
    max_pool2d, sgemm_with,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Case {
    n: usize,
    c: usize,
    f: usize,
    h: usize,
    w: usize,
    kernel: (usize, usize),
    padding: Padding,
    bias: bool,
    /// Values rounded to halves: exact sums, so windows tie and the first winner must be taken.
    coarse: bool,
    seed: u64,
}

impl Case {
    fn window(&self) -> Option<Window2d> {
        let win = Window2d::new((self.h, self.w), self.kernel, (1, 1), self.padding).ok()?;
        (win.out_h >= 2 && win.out_w >= 2).then_some(win)
    }
}

fn case() -> impl Strategy<Value = Case> {
    let padding = common::padding();
    (
        (1..4usize, 1..4usize, 1..10usize),
        (2..40usize, 2..40usize),
        (1..5usize, 1..5usize),
        padding,
        (any::<bool>(), any::<bool>()),
        any::<u64>(),
    )
        .prop_map(
            |((n, c, f), (h, w), kernel, padding, (bias, coarse), seed)| Case {
                n,
                c,
                f,
                h,
                w,
                kernel,
                padding,
                bias,
                coarse,
                seed,
            },
        )
}

fn array4(shape: [usize; 4], seed: u64, coarse: bool) -> Array4<f32> {
    let a = random::<f32>(&shape, seed)
        .into_dimensionality::<Ix4>()
        .unwrap();
    if coarse {
        a.mapv(|v| (v * 2.0).round() / 2.0)
    } else {
        a
    }
}

/// What the unfused layers compute: `relu(W cols + b)` by sgemm's epilogue, then max pooling
/// with the winners' positions.
fn unfused(
    kernel: Kernel,
    x: &Array4<f32>,
    weight: &Array2<f32>,
    bias: Option<&[f32]>,
    win: &Window2d,
) -> (Array4<f32>, Array4<f32>, Array4<u32>) {
    let (n, c, f) = (x.shape()[0], x.shape()[1], weight.nrows());
    let p = win.out_len();
    let mut cols = Array2::zeros((c * win.kernel_len(), n * p));
    im2col_wide(x.view(), win, cols.view_mut()).unwrap();
    let mut wide = Array2::zeros((f, n * p));
    let ep = Epilogue::default()
        .bias(bias.map_or(Bias::None, Bias::Rows))
        .relu(true);
    let product = MatMut::new(wide.view_mut());
    sgemm_with(
        kernel,
        true,
        MatRef::new(weight.view()),
        MatRef::new(cols.view()),
        product,
        ep,
    )
    .unwrap();
    let y = Array4::from_shape_fn((n, f, win.out_h, win.out_w), |(s, k, oy, ox)| {
        wide[(k, s * p + oy * win.out_w + ox)]
    });
    let pool = Window2d::new((win.out_h, win.out_w), (2, 2), (2, 2), Padding::Valid).unwrap();
    let mut pooled = Array4::zeros((n, f, pool.out_h, pool.out_w));
    let mut argmax = Array4::zeros((n, f, pool.out_h, pool.out_w));
    max_pool2d(y.view(), &pool, pooled.view_mut(), Some(argmax.view_mut())).unwrap();
    (y, pooled, argmax)
}

/// The gradients in f64: `d_pooled` routed to each window's winner, through ReLU's derivative,
/// then the convolution's weight, bias and input gradients as plain loops.
fn reference_grads(
    x: &Array4<f32>,
    weight: &Array2<f32>,
    win: &Window2d,
    y: &Array4<f32>,
    argmax: &Array4<u32>,
    d_pooled: &Array4<f32>,
) -> (Array2<f64>, Vec<f64>, Array4<f64>) {
    let (c, f) = (x.shape()[1], weight.nrows());
    let (kh, kw) = (win.kernel_h, win.kernel_w);
    let mut d_z = Array4::<f64>::zeros(y.raw_dim());
    for ((s, k, i, j), &at) in argmax.indexed_iter() {
        let (oy, ox) = (at as usize / win.out_w, at as usize % win.out_w);
        if y[(s, k, oy, ox)] > 0.0 {
            d_z[(s, k, oy, ox)] += d_pooled[(s, k, i, j)] as f64;
        }
    }
    let mut d_w = Array2::<f64>::zeros(weight.raw_dim());
    let mut d_b = vec![0.0; f];
    let mut d_x = Array4::<f64>::zeros(x.raw_dim());
    for ((s, k, oy, ox), &d) in d_z.indexed_iter() {
        d_b[k] += d;
        for ci in 0..c {
            for ky in 0..kh {
                for kx in 0..kw {
                    let iy = (oy + ky).checked_sub(win.pad_top).filter(|&v| v < win.in_h);
                    let ix = (ox + kx)
                        .checked_sub(win.pad_left)
                        .filter(|&v| v < win.in_w);
                    if let (Some(iy), Some(ix)) = (iy, ix) {
                        let t = (ci * kh + ky) * kw + kx;
                        d_w[(k, t)] += d * x[(s, ci, iy, ix)] as f64;
                        d_x[(s, ci, iy, ix)] += d * weight[(k, t)] as f64;
                    }
                }
            }
        }
    }
    (d_w, d_b, d_x)
}

fn assert_near(got: f32, want: f64, terms: usize, what: &str) {
    let tol = f32::EPSILON as f64 * 8.0 * terms as f64 * want.abs().max(1.0);
    assert!(
        (got as f64 - want).abs() <= tol,
        "{what}: got {got}, want {want} (tol {tol})"
    );
}

fn check(case: &Case) {
    let Some(win) = case.window() else { return };
    let x = array4([case.n, case.c, case.h, case.w], case.seed, case.coarse);
    let ckk = case.c * win.kernel_len();
    let weight = random::<f32>(&[case.f, ckk], case.seed ^ 1)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let weight = if case.coarse {
        weight.mapv(|v| (v * 2.0).round() / 2.0)
    } else {
        weight
    };
    let bias: Vec<f32> = random::<f32>(&[case.f], case.seed ^ 2)
        .into_iter()
        .collect();
    let bias = case.bias.then_some(bias.as_slice());
    let shape = [case.n, case.f, win.out_h / 2, win.out_w / 2];
    let d_pooled = array4(shape, case.seed ^ 3, false);
    for kernel in common::kernels("ConvReluPool") {
        let (y, want, argmax) = unfused(kernel, &x, &weight, bias, &win);
        let mut op = ConvReluPool::with_kernel(kernel);
        let mut pooled = Array4::from_elem(shape, f32::NAN);
        op.forward(x.view(), weight.view(), bias, &win, pooled.view_mut(), true)
            .unwrap();
        for ((idx, g), w) in pooled.indexed_iter().zip(&want) {
            assert_eq!(
                g.to_bits(),
                w.to_bits(),
                "{kernel:?} {case:?}: pooled at {idx:?}"
            );
        }
        let (want_w, want_b, want_x) = reference_grads(&x, &weight, &win, &y, &argmax, &d_pooled);
        // Gradients add into what is there.
        let mut d_w = Array2::<f32>::ones((case.f, ckk));
        let mut d_b = vec![1.0f32; case.f];
        let mut d_x = Array4::<f32>::from_elem(x.raw_dim(), f32::NAN);
        op.backward(
            d_pooled.view(),
            weight.view(),
            d_w.view_mut(),
            Some(&mut d_b),
            Some(d_x.view_mut()),
        )
        .unwrap();
        let terms = case.n * shape[2] * shape[3];
        for ((idx, &g), &w) in d_w.indexed_iter().zip(&want_w) {
            assert_near(
                g - 1.0,
                w,
                terms,
                &format!("{kernel:?} {case:?}: d_w at {idx:?}"),
            );
        }
        for (k, (&g, &w)) in d_b.iter().zip(&want_b).enumerate() {
            assert_near(g - 1.0, w, terms, &format!("{kernel:?} {case:?}: d_b[{k}]"));
        }
        for ((idx, &g), &w) in d_x.indexed_iter().zip(&want_x) {
            let terms = case.f * win.kernel_len();
            assert_near(g, w, terms, &format!("{kernel:?} {case:?}: d_x at {idx:?}"));
        }
        // Inference gives the same values and keeps nothing for backward.
        let mut infer = ConvReluPool::with_kernel(kernel);
        let mut values = Array4::zeros(shape);
        infer
            .forward(
                x.view(),
                weight.view(),
                bias,
                &win,
                values.view_mut(),
                false,
            )
            .unwrap();
        assert_eq!(values, pooled);
        assert!(infer.winners().is_empty());
        let mut d_w = Array2::<f32>::zeros((case.f, ckk));
        assert!(
            infer
                .backward(d_pooled.view(), weight.view(), d_w.view_mut(), None, None)
                .is_err()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matches_the_unfused_convolution_relu_and_max_pool(case in case()) {
        check(&case);
    }
}

#[test]
fn reference_first_layer_shape() {
    // The reference CNN's first layer: 28x28 digits, 32 filters 3x3, batch 64.
    check(&Case {
        n: 64,
        c: 1,
        f: 32,
        h: 28,
        w: 28,
        kernel: (3, 3),
        padding: Padding::Valid,
        bias: true,
        coarse: false,
        seed: 7,
    });
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let win = Window2d::new((8, 8), (3, 3), (1, 1), Padding::Valid).unwrap();
    let x = Array4::<f32>::zeros((2, 1, 8, 8));
    let weight = Array2::<f32>::zeros((4, 9));
    let mut op = ConvReluPool::default();
    let mut pooled = Array4::<f32>::zeros((2, 4, 3, 3));
    let mut run =
        |x: &Array4<f32>, w: &Array2<f32>, bias: Option<&[f32]>, pooled: &mut Array4<f32>| {
            op.forward(x.view(), w.view(), bias, &win, pooled.view_mut(), true)
        };
    assert!(run(&x, &weight, None, &mut pooled).is_ok());
    assert!(run(&Array4::zeros((2, 1, 9, 8)), &weight, None, &mut pooled).is_err());
    assert!(
        run(
            &Array4::zeros((2, 0, 8, 8)),
            &Array2::zeros((4, 0)),
            None,
            &mut pooled
        )
        .is_err()
    );
    assert!(run(&x, &Array2::zeros((4, 8)), None, &mut pooled).is_err());
    assert!(run(&x, &weight, Some(&[0.0; 3]), &mut pooled).is_err());
    assert!(run(&x, &weight, None, &mut Array4::zeros((2, 4, 3, 2))).is_err());
    let strided = Window2d::new((8, 8), (3, 3), (2, 2), Padding::Valid).unwrap();
    assert!(!ConvReluPool::supports(&strided));
    assert!(
        op.forward(
            x.view(),
            weight.view(),
            None,
            &strided,
            pooled.view_mut(),
            true
        )
        .is_err()
    );
    let mut d_w = Array2::<f32>::zeros((4, 9));
    let wrong = Array4::<f32>::zeros((2, 4, 2, 3));
    assert!(
        op.backward(wrong.view(), weight.view(), d_w.view_mut(), None, None)
            .is_err()
    );
}

/// `Window2d`'s fields are public, and the kernel addresses the input planes through the
/// window's output size: a hand-edited `out_h` four rows too many made it read past the last
/// sample's planes (before `check_conv_args` checked the window). It must be an error.
#[test]
fn a_hand_edited_window_is_an_error() {
    let win = Window2d::new((8, 8), (3, 3), (1, 1), Padding::Valid).unwrap();
    let bad = Window2d {
        out_h: win.out_h + 4,
        ..win
    };
    let x = Array4::<f32>::zeros((2, 1, 8, 8));
    let weight = Array2::<f32>::zeros((4, 9));
    let mut pooled = Array4::<f32>::zeros((2, 4, bad.out_h / 2, bad.out_w / 2));
    for kernel in common::kernels("ConvReluPool") {
        let mut op = ConvReluPool::with_kernel(kernel);
        let result = op.forward(x.view(), weight.view(), None, &bad, pooled.view_mut(), true);
        assert!(result.is_err(), "{kernel:?}");
    }
}
