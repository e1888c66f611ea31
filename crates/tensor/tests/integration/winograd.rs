//! `Winograd` against a plain f64 convolution: output, weight, bias and input gradients, for
//! every kernel this CPU runs, any padding, channel and filter counts that do and do not fill a
//! vector, and batches that span several chunks.

use crate::common;

use common::random;
use ndarray::{Array2, Array4, Ix2, Ix4};
use neurite_tensor::{Kernel, Padding, Window2d, Winograd};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Case {
    n: usize,
    c: usize,
    f: usize,
    h: usize,
    w: usize,
    padding: Padding,
    bias: bool,
    relu: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let padding = common::padding();
    (
        (1..5usize, 1..20usize, 1..40usize),
        (1..20usize, 1..20usize),
        padding,
        (any::<bool>(), any::<bool>()),
        any::<u64>(),
    )
        .prop_map(|((n, c, f), (h, w), padding, (bias, relu), seed)| Case {
            n,
            c,
            f,
            h,
            w,
            padding,
            bias,
            relu,
            seed,
        })
}

/// A value and the sum of the magnitudes of its terms, which bounds its rounding error.
#[derive(Clone, Copy, Default)]
struct Sum {
    value: f64,
    scale: f64,
}

impl Sum {
    fn add(&mut self, a: f64, b: f64) {
        self.value += a * b;
        self.scale += (a * b).abs();
    }
}

struct Reference {
    /// Pre-activation `[N, F, OH, OW]`.
    z: Array4<Sum>,
}

fn forward_reference(
    x: &Array4<f32>,
    weight: &Array2<f32>,
    bias: Option<&[f32]>,
    win: &Window2d,
) -> Reference {
    let (n, c, f) = (x.shape()[0], x.shape()[1], weight.nrows());
    let mut z = Array4::<Sum>::default((n, f, win.out_h, win.out_w));
    for ((s, k, oy, ox), z) in z.indexed_iter_mut() {
        if let Some(b) = bias {
            z.add(b[k] as f64, 1.0);
        }
        for_taps(win, c, oy, ox, |ci, t, iy, ix| {
            z.add(weight[(k, t)] as f64, x[(s, ci, iy, ix)] as f64)
        });
    }
    Reference { z }
}

/// Calls `f(channel, tap, input row, input column)` for every tap of output `(oy, ox)` that
/// falls inside the input.
fn for_taps(
    win: &Window2d,
    c: usize,
    oy: usize,
    ox: usize,
    mut f: impl FnMut(usize, usize, usize, usize),
) {
    for ci in 0..c {
        for ky in 0..3 {
            for kx in 0..3 {
                let iy = (oy + ky).checked_sub(win.pad_top).filter(|&v| v < win.in_h);
                let ix = (ox + kx)
                    .checked_sub(win.pad_left)
                    .filter(|&v| v < win.in_w);
                if let (Some(iy), Some(ix)) = (iy, ix) {
                    f(ci, ci * 9 + ky * 3 + kx, iy, ix);
                }
            }
        }
    }
}

/// Checks `got` against `want` element by element. The transforms mix the terms of
/// neighbouring outputs before they cancel, so the rounding error of one element is bounded by
/// the magnitudes over its tile, not by its own terms: the tolerance uses the largest scale in
/// the tensor.
fn assert_all_near<'a>(
    got: impl IntoIterator<Item = (String, f32)>,
    want: impl IntoIterator<Item = &'a Sum> + Clone,
) {
    let scale = want
        .clone()
        .into_iter()
        .fold(1e-3f64, |m, s| m.max(s.scale));
    let tol = 64.0 * f32::EPSILON as f64 * scale;
    for ((what, got), want) in got.into_iter().zip(want) {
        assert!(
            (got as f64 - want.value).abs() <= tol,
            "{what}: got {got}, want {} (tol {tol})",
            want.value
        );
    }
}

/// [`assert_all_near`] for the weight, bias and input gradients, each element named by `label`.
fn assert_grads_near(
    label: &dyn Fn(&str, &dyn std::fmt::Debug) -> String,
    (d_w, d_b, d_x): (&Array2<f32>, &[f32], &Array4<f32>),
    (want_w, want_b, want_x): (&[Sum], &[Sum], &[Sum]),
) {
    assert_all_near(
        d_w.indexed_iter().map(|(i, &v)| (label("d_w", &i), v)),
        want_w,
    );
    assert_all_near(
        d_b.iter().enumerate().map(|(i, &v)| (label("d_b", &i), v)),
        want_b,
    );
    assert_all_near(
        d_x.indexed_iter().map(|(i, &v)| (label("d_x", &i), v)),
        want_x,
    );
}

/// The weight, bias and input gradients in f64 from the pre-activation's gradient `d_z`.
fn reference_grads(
    x: &Array4<f32>,
    weight: &Array2<f32>,
    win: &Window2d,
    d_z: &Array4<f64>,
) -> (Array2<Sum>, Vec<Sum>, Array4<Sum>) {
    let mut want_w = Array2::<Sum>::default(weight.raw_dim());
    let mut want_b = vec![Sum::default(); weight.nrows()];
    let mut want_x = Array4::<Sum>::default(x.raw_dim());
    for ((s, k, oy, ox), &d) in d_z.indexed_iter() {
        want_b[k].add(d, 1.0);
        for_taps(win, x.shape()[1], oy, ox, |ci, t, iy, ix| {
            want_w[(k, t)].add(d, x[(s, ci, iy, ix)] as f64);
            want_x[(s, ci, iy, ix)].add(d, weight[(k, t)] as f64);
        });
    }
    (want_w, want_b, want_x)
}

fn random4(shape: [usize; 4], seed: u64) -> Array4<f32> {
    random::<f32>(&shape, seed)
        .into_dimensionality::<Ix4>()
        .unwrap()
}

/// Every kernel this CPU runs, reported (see `common::kernels`).
fn kernels() -> Vec<Kernel> {
    common::kernels("Winograd")
}

/// A case's window, input, weight and bias.
type Inputs = (Window2d, Array4<f32>, Array2<f32>, Vec<f32>);

/// A case's inputs, if its sizes make a window.
fn inputs(case: &Case) -> Option<Inputs> {
    let win = Window2d::new((case.h, case.w), (3, 3), (1, 1), case.padding).ok()?;
    let (n, c, f) = (case.n, case.c, case.f);
    let x = random4([n, c, case.h, case.w], case.seed);
    let weight = random::<f32>(&[f, c * 9], case.seed ^ 1);
    let bias = random::<f32>(&[f], case.seed ^ 2).into_iter().collect();
    Some((win, x, weight.into_dimensionality::<Ix2>().unwrap(), bias))
}

fn check(case: &Case) {
    let Some((win, x, weight, bias)) = inputs(case) else {
        return;
    };
    let (n, f) = (case.n, case.f);
    let bias = case.bias.then_some(bias.as_slice());
    let out_shape = [n, f, win.out_h, win.out_w];
    let d_y = random4(out_shape, case.seed ^ 3);
    let reference = forward_reference(&x, &weight, bias, &win);
    for kernel in kernels() {
        let mut conv = Winograd::with_kernel(kernel);
        let mut y = Array4::from_elem(out_shape, f32::NAN);
        conv.forward(
            x.view(),
            weight.view(),
            bias,
            case.relu,
            &win,
            y.view_mut(),
            true,
        )
        .unwrap();
        let want_y: Vec<Sum> = reference
            .z
            .iter()
            .map(|z| Sum {
                value: if case.relu { z.value.max(0.0) } else { z.value },
                scale: z.scale,
            })
            .collect();
        let label = |what: &str, idx: &dyn std::fmt::Debug| {
            format!("{kernel:?} {case:?}: {what} at {idx:?}")
        };
        assert_all_near(y.indexed_iter().map(|(i, &v)| (label("y", &i), v)), &want_y);
        // The gradient through ReLU's derivative as the layer sees it: zero where y is not
        // positive.
        let d_z = Array4::from_shape_fn(out_shape, |i| {
            if !case.relu || y[i] > 0.0 {
                d_y[i] as f64
            } else {
                0.0
            }
        });
        let (want_w, want_b, want_x) = reference_grads(&x, &weight, &win, &d_z);
        // Weight and bias gradients add into what is there; the input gradient is written.
        let mut d_w = Array2::<f32>::ones(weight.raw_dim());
        let mut d_b = vec![1.0f32; f];
        let mut d_x = Array4::<f32>::from_elem(x.raw_dim(), f32::NAN);
        conv.backward(
            d_y.view(),
            case.relu.then_some(y.view()),
            d_w.view_mut(),
            Some(&mut d_b),
            Some(d_x.view_mut()),
        )
        .unwrap();
        let shifted = |s: Sum| Sum {
            value: s.value + 1.0,
            scale: s.scale + 1.0,
        };
        let want_w: Vec<Sum> = want_w.iter().map(|&s| shifted(s)).collect();
        let want_b: Vec<Sum> = want_b.iter().map(|&s| shifted(s)).collect();
        let want_x = want_x.as_slice().expect("standard layout");
        assert_grads_near(&label, (&d_w, &d_b, &d_x), (&want_w, &want_b, want_x));
        // Inference gives the same values and keeps nothing for backward.
        let mut infer = Winograd::with_kernel(kernel);
        let mut values = Array4::zeros(out_shape);
        infer
            .forward(
                x.view(),
                weight.view(),
                bias,
                case.relu,
                &win,
                values.view_mut(),
                false,
            )
            .unwrap();
        assert_eq!(values, y);
        assert!(
            infer
                .backward(d_y.view(), None, d_w.view_mut(), None, None)
                .is_err()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn matches_a_direct_convolution(case in case()) {
        check(&case);
    }
}

/// `forward_pooled` against `forward` with ReLU and then `max_pool2d`, and its gradients
/// against f64 loops fed the pooled gradient at each window's winner.
fn check_pooled(case: &Case) {
    let Some((win, x, weight, bias)) = inputs(case) else {
        return;
    };
    let (n, f) = (case.n, case.f);
    let (ph, pw) = (win.out_h / 2, win.out_w / 2);
    let bias = case.bias.then_some(bias.as_slice());
    let pooled_shape = [n, f, ph, pw];
    let d_pooled = random4(pooled_shape, case.seed ^ 3);
    let reference = forward_reference(&x, &weight, bias, &win);
    for kernel in kernels() {
        let mut conv = Winograd::with_kernel(kernel);
        let mut pooled = Array4::from_elem(pooled_shape, f32::NAN);
        conv.forward_pooled(x.view(), weight.view(), bias, &win, pooled.view_mut(), true)
            .unwrap();
        let label = |what: &str, idx: &dyn std::fmt::Debug| {
            format!("{kernel:?} {case:?}: {what} at {idx:?}")
        };
        // Each window's maximum after ReLU, and the winner code it must have recorded.
        let winners = conv.winners().to_vec();
        assert_eq!(winners.len(), n * ph * pw * f);
        let mut want_pooled = Vec::new();
        let mut d_z = Array4::<f64>::zeros((n, f, win.out_h, win.out_w));
        for ((s, k, py, px), &got) in pooled.indexed_iter() {
            let cells = [(0, 0), (0, 1), (1, 0), (1, 1)].map(|(a, b)| {
                let z = reference.z[(s, k, 2 * py + a, 2 * px + b)];
                Sum {
                    value: z.value.max(0.0),
                    scale: z.scale,
                }
            });
            let max = cells
                .iter()
                .fold(cells[0], |m, c| if c.value > m.value { *c } else { m });
            want_pooled.push(max);
            let code = winners[((s * ph + py) * pw + px) * f + k];
            if code < 4.0 {
                let (a, b) = (code as usize / 2, code as usize % 2);
                // The winner holds the window's value, up to the transforms' rounding.
                let winner = cells[code as usize];
                assert!(
                    (winner.value - got as f64).abs()
                        <= 64.0 * f32::EPSILON as f64 * winner.scale.max(1e-3) + 1e-6,
                    "{}",
                    label("winner", &(s, k, py, px))
                );
                d_z[(s, k, 2 * py + a, 2 * px + b)] = d_pooled[(s, k, py, px)] as f64;
            } else {
                assert_eq!(code, 4.0, "{}", label("winner code", &(s, k, py, px)));
                assert_eq!(
                    got,
                    0.0,
                    "{}",
                    label("a window without gradient", &(s, k, py, px))
                );
            }
        }
        assert_all_near(
            pooled
                .indexed_iter()
                .map(|(i, &v)| (label("pooled", &i), v)),
            &want_pooled,
        );
        let (want_w, want_b, want_x) = reference_grads(&x, &weight, &win, &d_z);
        let mut d_w = Array2::<f32>::zeros(weight.raw_dim());
        let mut d_b = vec![0.0f32; f];
        let mut d_x = Array4::<f32>::from_elem(x.raw_dim(), f32::NAN);
        assert!(
            conv.backward(pooled.view(), None, d_w.view_mut(), None, None)
                .is_err()
        );
        conv.backward_pooled(
            d_pooled.view(),
            d_w.view_mut(),
            Some(&mut d_b),
            Some(d_x.view_mut()),
        )
        .unwrap();
        let want_w = want_w.as_slice().expect("standard layout");
        let want_x = want_x.as_slice().expect("standard layout");
        assert_grads_near(&label, (&d_w, &d_b, &d_x), (want_w, &want_b, want_x));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn pooled_matches_relu_then_max_pool(case in case()) {
        check_pooled(&case);
    }
}

/// The reference CNN's second convolution, with a batch that ends in a partial chunk.
#[test]
fn reference_cnn_shapes() {
    for padding in [Padding::Valid, Padding::Same] {
        let case = Case {
            n: 9,
            c: 32,
            f: 64,
            h: 13,
            w: 13,
            padding,
            bias: true,
            relu: true,
            seed: 7,
        };
        check(&case);
        check_pooled(&case);
    }
}

/// The results do not depend on the thread count.
#[test]
fn same_results_on_one_and_two_threads() {
    let win = Window2d::new((13, 13), (3, 3), (1, 1), Padding::Valid).unwrap();
    let x = random::<f32>(&[11, 16, 13, 13], 1)
        .into_dimensionality::<Ix4>()
        .unwrap();
    let weight = random::<f32>(&[24, 16 * 9], 2)
        .into_dimensionality::<Ix2>()
        .unwrap();
    let d_y = random::<f32>(&[11, 24, 11, 11], 3)
        .into_dimensionality::<Ix4>()
        .unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut conv = Winograd::default();
            let mut y = Array4::zeros((11, 24, 11, 11));
            conv.forward(
                x.view(),
                weight.view(),
                None,
                true,
                &win,
                y.view_mut(),
                true,
            )
            .unwrap();
            let mut d_w = Array2::zeros(weight.raw_dim());
            let mut d_b = vec![0.0f32; 24];
            let mut d_x = Array4::zeros(x.raw_dim());
            conv.backward(
                d_y.view(),
                Some(y.view()),
                d_w.view_mut(),
                Some(&mut d_b),
                Some(d_x.view_mut()),
            )
            .unwrap();
            (y, d_w, d_b, d_x)
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn rejects_other_windows_and_mismatched_shapes() {
    let x = Array4::<f32>::zeros((1, 2, 8, 8));
    let five = Window2d::new((8, 8), (5, 5), (1, 1), Padding::Valid).unwrap();
    let mut conv = Winograd::default();
    let mut y = Array4::zeros((1, 3, 4, 4));
    let weight = Array2::<f32>::zeros((3, 2 * 25));
    assert!(
        conv.forward(
            x.view(),
            weight.view(),
            None,
            false,
            &five,
            y.view_mut(),
            true
        )
        .is_err()
    );
    let win = Window2d::new((8, 8), (3, 3), (1, 1), Padding::Valid).unwrap();
    let weight = Array2::<f32>::zeros((3, 2 * 9));
    let mut wrong = Array4::zeros((1, 3, 5, 5));
    assert!(
        conv.forward(
            x.view(),
            weight.view(),
            None,
            false,
            &win,
            wrong.view_mut(),
            true
        )
        .is_err()
    );
    assert!(
        conv.forward(
            x.view(),
            weight.view(),
            Some(&[0.0; 2]),
            false,
            &win,
            y.view_mut(),
            true
        )
        .is_err()
    );
    let bad_weight = Array2::<f32>::zeros((3, 2 * 9 + 1));
    assert!(
        conv.forward(
            x.view(),
            bad_weight.view(),
            None,
            false,
            &win,
            y.view_mut(),
            true
        )
        .is_err()
    );
    // Backward before a training forward.
    let mut d_w = Array2::zeros((3, 18));
    assert!(
        conv.backward(y.view(), None, d_w.view_mut(), None, None)
            .is_err()
    );
}

/// Inference goes through a batch of more chunks than it holds buffers for a group at a time:
/// the same values as a training pass, which holds them all.
#[test]
fn inference_in_groups_matches_training() {
    let win = Window2d::new((13, 13), (3, 3), (1, 1), Padding::Valid).unwrap();
    let x = random4([60, 8, 13, 13], 5);
    let weight = random::<f32>(&[16, 72], 6)
        .into_dimensionality::<Ix2>()
        .unwrap();
    for pooled in [false, true] {
        let shape = if pooled {
            [60, 16, 5, 5]
        } else {
            [60, 16, 11, 11]
        };
        let run = |train: bool| {
            let mut conv = Winograd::default();
            let mut y = Array4::from_elem(shape, f32::NAN);
            let (x, w, y_view) = (x.view(), weight.view(), y.view_mut());
            match pooled {
                true => conv.forward_pooled(x, w, None, &win, y_view, train),
                false => conv.forward(x, w, None, true, &win, y_view, train),
            }
            .unwrap();
            y
        };
        assert_eq!(run(false), run(true), "pooled: {pooled}");
    }
}

/// A Winograd keeps the transform of the last weights it saw: new weights, or the same weights
/// after a batch of another size, must give what a fresh one gives, forward and backward.
#[test]
fn new_weights_are_transformed_again() {
    let win = Window2d::new((13, 13), (3, 3), (1, 1), Padding::Valid).unwrap();
    let weights: Vec<Array2<f32>> = (0..2)
        .map(|i| {
            random::<f32>(&[16, 72], 10 + i)
                .into_dimensionality::<Ix2>()
                .unwrap()
        })
        .collect();
    let run = |conv: &mut Winograd, n: usize, w: &Array2<f32>| {
        let x = random4([n, 8, 13, 13], 20 + n as u64);
        let mut y = Array4::zeros((n, 16, 11, 11));
        conv.forward(x.view(), w.view(), None, true, &win, y.view_mut(), true)
            .unwrap();
        let d_y = random4([n, 16, 11, 11], 30);
        let mut d_x = Array4::zeros(x.raw_dim());
        let mut d_w = Array2::zeros(w.raw_dim());
        conv.backward(
            d_y.view(),
            Some(y.view()),
            d_w.view_mut(),
            None,
            Some(d_x.view_mut()),
        )
        .unwrap();
        (y, d_x, d_w)
    };
    let mut kept = Winograd::default();
    for (n, w) in [(3, 0), (3, 1), (3, 0), (5, 0), (5, 1), (3, 1)] {
        let fresh = run(&mut Winograd::default(), n, &weights[w]);
        assert_eq!(
            run(&mut kept, n, &weights[w]),
            fresh,
            "batch {n}, weights {w}"
        );
    }
}
