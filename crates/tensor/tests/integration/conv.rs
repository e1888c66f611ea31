//! im2col + GEMM convolution against a direct naive convolution; col2im as the exact adjoint.

use crate::common;

use common::{assert_close, random, tol};
use ndarray::{Array3, Array4, ArrayD, Ix4};
use neurite_tensor::{
    Float, Padding, Transpose, Window2d, col2im_batch, col2im_wide, gemm, im2col_batch, im2col_wide,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct ConvProblem {
    n: usize,
    c: usize,
    f: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    padding: Padding,
    seed: u64,
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        [0..3usize, 0..3usize, 0..3usize, 0..3usize].prop_map(Padding::Explicit),
    ]
}

fn conv_problem() -> impl Strategy<Value = ConvProblem> {
    (
        1..4usize,
        1..4usize,
        1..5usize,
        1..10usize,
        1..10usize,
        1..4usize,
        1..4usize,
        (1..3usize, 1..3usize),
        padding(),
        any::<u64>(),
    )
        .prop_map(
            |(n, c, f, h, w, kh, kw, stride, padding, seed)| ConvProblem {
                n,
                c,
                f,
                h,
                w,
                kh,
                kw,
                stride,
                padding,
                seed,
            },
        )
}

fn window(p: &ConvProblem) -> Option<Window2d> {
    Window2d::new((p.h, p.w), (p.kh, p.kw), p.stride, p.padding).ok()
}

/// Direct convolution with explicit loops over every output and kernel position, in f64.
fn naive_conv(x: &ArrayD<f64>, weight: &ArrayD<f64>, win: &Window2d) -> Array4<f64> {
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let f = weight.shape()[0];
    Array4::from_shape_fn((n, f, win.out_h, win.out_w), |(i, o, oy, ox)| {
        let mut acc = 0.0;
        for ch in 0..c {
            for ky in 0..win.kernel_h {
                for kx in 0..win.kernel_w {
                    let y = (oy * win.stride_h + ky) as isize - win.pad_top as isize;
                    let xx = (ox * win.stride_w + kx) as isize - win.pad_left as isize;
                    if y >= 0 && xx >= 0 && (y as usize) < win.in_h && (xx as usize) < win.in_w {
                        acc += x[[i, ch, y as usize, xx as usize]] * weight[[o, ch, ky, kx]];
                    }
                }
            }
        }
        acc
    })
}

fn conv_via_im2col<F: Float>(x: &ArrayD<F>, weight: &ArrayD<F>, win: &Window2d) -> Array4<F> {
    if F::DTYPE == "F32" {
        // f32 goes to neurite's sgemm, whose kernel `gemm` does not let a caller choose.
        common::best_kernel("im2col + gemm (f32)");
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let f = weight.shape()[0];
    let rows = c * win.kernel_len();
    let mut cols = Array3::<F>::zeros((n, rows, win.out_len()));
    im2col_batch(
        x.view().into_dimensionality::<Ix4>().unwrap(),
        win,
        cols.view_mut(),
    )
    .unwrap();
    let w2 = weight.view().into_shape_with_order((f, rows)).unwrap();
    let mut out = Array3::<F>::zeros((n, f, win.out_len()));
    for (col, o) in cols.outer_iter().zip(out.outer_iter_mut()) {
        gemm(
            F::one(),
            w2,
            Transpose::No,
            col,
            Transpose::No,
            F::zero(),
            o,
        )
        .unwrap();
    }
    out.into_shape_with_order((n, f, win.out_h, win.out_w))
        .unwrap()
}

fn check_forward<F: Float>(p: &ConvProblem) {
    let Some(win) = window(p) else { return };
    let x = random::<F>(&[p.n, p.c, p.h, p.w], p.seed);
    let weight = random::<F>(&[p.f, p.c, p.kh, p.kw], p.seed ^ 7);
    let want = naive_conv(&x.mapv(|v| v.as_f64()), &weight.mapv(|v| v.as_f64()), &win);
    let got = conv_via_im2col(&x, &weight, &win);
    assert_close(
        &got.into_dyn(),
        &want.into_dyn(),
        tol::<F>(p.c * p.kh * p.kw) * 4.0,
        &format!("{p:?}"),
    );
}

/// `<im2col(x), g> == <x, col2im(g)>` for random x and g: col2im is im2col's adjoint, which is
/// exactly what the convolution backward needs.
fn check_adjoint<F: Float>(p: &ConvProblem) {
    let Some(win) = window(p) else { return };
    let x = random::<F>(&[p.n, p.c, p.h, p.w], p.seed)
        .into_dimensionality::<Ix4>()
        .unwrap();
    let rows = p.c * win.kernel_len();
    let g = random::<F>(&[p.n, rows, win.out_len()], p.seed ^ 3)
        .into_dimensionality::<ndarray::Ix3>()
        .unwrap();
    let mut cols = Array3::<F>::zeros((p.n, rows, win.out_len()));
    im2col_batch(x.view(), &win, cols.view_mut()).unwrap();
    let mut back = Array4::<F>::zeros((p.n, p.c, p.h, p.w));
    col2im_batch(g.view(), &win, back.view_mut()).unwrap();
    let lhs: f64 = cols
        .iter()
        .zip(g.iter())
        .map(|(a, b)| a.as_f64() * b.as_f64())
        .sum();
    let rhs: f64 = x
        .iter()
        .zip(back.iter())
        .map(|(a, b)| a.as_f64() * b.as_f64())
        .sum();
    let scale = cols.len() as f64;
    assert!(
        (lhs - rhs).abs() <= tol::<F>(cols.len()) * scale.max(1.0),
        "{p:?}: {lhs} vs {rhs}"
    );
}

/// The wide layout holds exactly the per-sample columns side by side, and its fold adds back the
/// same gradients as the per-sample fold.
fn check_wide<F: Float>(p: &ConvProblem) {
    let Some(win) = window(p) else { return };
    let x = random::<F>(&[p.n, p.c, p.h, p.w], p.seed)
        .into_dimensionality::<Ix4>()
        .unwrap();
    let rows = p.c * win.kernel_len();
    let mut per_sample = Array3::<F>::zeros((p.n, rows, win.out_len()));
    im2col_batch(x.view(), &win, per_sample.view_mut()).unwrap();
    let mut wide = ndarray::Array2::<F>::zeros((rows, p.n * win.out_len()));
    im2col_wide(x.view(), &win, wide.view_mut()).unwrap();
    for n in 0..p.n {
        let block = wide.slice(ndarray::s![.., n * win.out_len()..(n + 1) * win.out_len()]);
        assert_eq!(block, per_sample.index_axis(ndarray::Axis(0), n), "{p:?}");
    }
    let mut back_wide = Array4::<F>::zeros((p.n, p.c, p.h, p.w));
    col2im_wide(wide.view(), &win, back_wide.view_mut()).unwrap();
    let mut back = Array4::<F>::zeros((p.n, p.c, p.h, p.w));
    col2im_batch(per_sample.view(), &win, back.view_mut()).unwrap();
    assert_eq!(back_wide, back, "{p:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn wide_layout_matches_per_sample_f64(p in conv_problem()) { check_wide::<f64>(&p); }

    #[test]
    fn wide_layout_matches_per_sample_f32(p in conv_problem()) { check_wide::<f32>(&p); }

    #[test]
    fn conv_matches_naive_f64(p in conv_problem()) { check_forward::<f64>(&p); }

    #[test]
    fn conv_matches_naive_f32(p in conv_problem()) { check_forward::<f32>(&p); }

    #[test]
    fn col2im_is_adjoint_f64(p in conv_problem()) { check_adjoint::<f64>(&p); }

    #[test]
    fn col2im_is_adjoint_f32(p in conv_problem()) { check_adjoint::<f32>(&p); }
}

#[test]
fn same_padding_matches_keras_split() {
    // 5 wide, kernel 4, stride 1: total padding 3 -> 1 before, 2 after (extra at the end).
    let w = Window2d::new((5, 5), (4, 4), (1, 1), Padding::Same).unwrap();
    assert_eq!((w.pad_top, w.pad_bottom, w.out_h), (1, 2, 5));
    // 28 wide, kernel 3, stride 2: out 14, total padding 1 -> 0 before, 1 after.
    let w = Window2d::new((28, 28), (3, 3), (2, 2), Padding::Same).unwrap();
    assert_eq!((w.pad_left, w.pad_right, w.out_w), (0, 1, 14));
}

#[test]
fn bad_geometry_is_an_error() {
    assert!(Window2d::new((2, 2), (3, 3), (1, 1), Padding::Valid).is_err());
    assert!(Window2d::new((4, 4), (0, 3), (1, 1), Padding::Valid).is_err());
    assert!(Window2d::new((4, 4), (3, 3), (0, 1), Padding::Valid).is_err());
    // Absurd extents (a crafted model file) are refused instead of overflowing.
    let huge = Padding::Explicit([usize::MAX, 0, usize::MAX, 0]);
    assert!(Window2d::new((4, 4), (3, 3), (1, 1), huge).is_err());
    assert!(Window2d::new((usize::MAX, 4), (3, 3), (1, 1), Padding::Same).is_err());
    assert!(Window2d::new((4, 4), (3, usize::MAX), (1, 1), Padding::Valid).is_err());
    let win = Window2d::new((4, 4), (3, 3), (1, 1), Padding::Valid).unwrap();
    let x = Array4::<f32>::zeros((1, 1, 5, 4));
    let mut cols = Array3::<f32>::zeros((1, 9, 4));
    assert!(im2col_batch(x.view(), &win, cols.view_mut()).is_err());
}
