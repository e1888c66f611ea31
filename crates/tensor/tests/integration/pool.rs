//! Max and average pooling against naive loops; backward passes checked as scatters and adjoints.

use crate::common;

use common::{assert_close, random, tol};
use ndarray::{Array2, Array4, Ix4};
use neurite_tensor::{
    Float, Padding, Window2d, avg_pool2d, avg_pool2d_backward, global_avg_pool2d,
    global_avg_pool2d_backward, max_pool2d, max_pool2d_backward,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct PoolProblem {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    k: (usize, usize),
    stride: (usize, usize),
    same: bool,
    seed: u64,
}

fn pool_problem() -> impl Strategy<Value = PoolProblem> {
    (
        1..3usize,
        1..4usize,
        1..12usize,
        1..12usize,
        (1..4usize, 1..4usize),
        (1..4usize, 1..4usize),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(n, c, h, w, k, stride, same, seed)| PoolProblem {
            n,
            c,
            h,
            w,
            k,
            stride,
            same,
            seed,
        })
}

fn window(p: &PoolProblem) -> Option<Window2d> {
    Window2d::new(
        (p.h, p.w),
        p.k,
        p.stride,
        if p.same {
            Padding::Same
        } else {
            Padding::Valid
        },
    )
    .ok()
}

/// The input cells of window (oy, ox), by brute force over the padded grid.
fn cells(win: &Window2d, oy: usize, ox: usize) -> Vec<(usize, usize)> {
    let mut out = vec![];
    for ky in 0..win.kernel_h {
        for kx in 0..win.kernel_w {
            let y = (oy * win.stride_h + ky) as isize - win.pad_top as isize;
            let x = (ox * win.stride_w + kx) as isize - win.pad_left as isize;
            if y >= 0 && x >= 0 && (y as usize) < win.in_h && (x as usize) < win.in_w {
                out.push((y as usize, x as usize));
            }
        }
    }
    out
}

fn check<F: Float>(p: &PoolProblem) {
    let Some(win) = window(p) else { return };
    let x = random::<F>(&[p.n, p.c, p.h, p.w], p.seed)
        .into_dimensionality::<Ix4>()
        .unwrap();
    let out_shape = (p.n, p.c, win.out_h, win.out_w);

    // Forward, both pools.
    let mut max_out = Array4::<F>::zeros(out_shape);
    let mut argmax = Array4::<u32>::zeros(out_shape);
    max_pool2d(x.view(), &win, max_out.view_mut(), Some(argmax.view_mut())).unwrap();
    let mut avg_out = Array4::<F>::zeros(out_shape);
    avg_pool2d(x.view(), &win, avg_out.view_mut()).unwrap();
    let want_max = Array4::from_shape_fn(out_shape, |(i, c, oy, ox)| {
        cells(&win, oy, ox)
            .iter()
            .map(|&(y, xx)| x[[i, c, y, xx]].as_f64())
            .fold(f64::NEG_INFINITY, f64::max)
    });
    let want_avg = Array4::from_shape_fn(out_shape, |(i, c, oy, ox)| {
        let cs = cells(&win, oy, ox);
        cs.iter()
            .map(|&(y, xx)| x[[i, c, y, xx]].as_f64())
            .sum::<f64>()
            / cs.len() as f64
    });
    assert_eq!(max_out.mapv(|v| v.as_f64()), want_max, "{p:?}");
    assert_close(
        &avg_out.clone().into_dyn(),
        &want_avg.into_dyn(),
        tol::<F>(p.k.0 * p.k.1),
        &format!("{p:?}"),
    );

    // Backward: max scatters each gradient to the winner; avg is the adjoint of the forward.
    let g = random::<F>(&[p.n, p.c, win.out_h, win.out_w], p.seed ^ 5)
        .into_dimensionality::<Ix4>()
        .unwrap();
    // Start from garbage: the backward writes every cell.
    let mut d_max = Array4::<F>::from_elem((p.n, p.c, p.h, p.w), F::from_f64(7.0));
    max_pool2d_backward(g.view(), argmax.view(), &win, d_max.view_mut()).unwrap();
    let mut want_d = Array4::<f64>::zeros((p.n, p.c, p.h, p.w));
    for ((i, c, oy, ox), &gv) in g.indexed_iter() {
        let winner = cells(&win, oy, ox)
            .into_iter()
            .find(|&(y, xx)| x[[i, c, y, xx]] == max_out[[i, c, oy, ox]])
            .unwrap();
        want_d[[i, c, winner.0, winner.1]] += gv.as_f64();
    }
    assert_close(
        &d_max.into_dyn(),
        &want_d.into_dyn(),
        tol::<F>(p.k.0 * p.k.1),
        &format!("{p:?}"),
    );

    let mut d_avg = Array4::<F>::zeros((p.n, p.c, p.h, p.w));
    avg_pool2d_backward(g.view(), &win, d_avg.view_mut()).unwrap();
    let lhs: f64 = avg_out
        .iter()
        .zip(g.iter())
        .map(|(a, b)| a.as_f64() * b.as_f64())
        .sum();
    let rhs: f64 = x
        .iter()
        .zip(d_avg.iter())
        .map(|(a, b)| a.as_f64() * b.as_f64())
        .sum();
    assert!(
        (lhs - rhs).abs() <= tol::<F>(x.len()) * (x.len() as f64),
        "{p:?}: {lhs} vs {rhs}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn pools_match_naive_f64(p in pool_problem()) { check::<f64>(&p); }

    #[test]
    fn pools_match_naive_f32(p in pool_problem()) { check::<f32>(&p); }

    /// The 2x2 stride-2 fast path (the reference CNN's pooling), odd sizes included.
    #[test]
    fn max_pool_2x2_fast_path_matches_naive(
        n in 1..3usize, c in 1..4usize, h in 2..30usize, w in 2..30usize, seed in any::<u64>()
    ) {
        let p = PoolProblem { n, c, h, w, k: (2, 2), stride: (2, 2), same: false, seed };
        check::<f32>(&p);
        check::<f64>(&p);
    }

    /// Inference (no argmax) gives the training path's values bit for bit, for the 2x2 fast
    /// path and the general one, with ties (signed zeros, repeats) and NaNs in the input.
    #[test]
    fn max_pool_without_argmax_gives_the_same_bits(
        n in 1..3usize, c in 1..3usize, h in 2..20usize, w in 2..20usize,
        k in 1..4usize, stride in 1..4usize, cells in proptest::collection::vec(0..6u8, 800)
    ) {
        let values = [0.0f32, -0.0, 1.0, -2.0, f32::NAN, 1.0];
        let x = Array4::from_shape_fn((n, c, h, w), |(a, b, y, xx)| {
            values[cells[(((a * c + b) * h + y) * w + xx) % cells.len()] as usize]
        });
        let (k, s) = if k == 2 { ((2, 2), (2, 2)) } else { ((k.min(h), k.min(w)), (stride, stride)) };
        let win = Window2d::new((h, w), k, s, Padding::Valid).unwrap();
        let shape = (n, c, win.out_h, win.out_w);
        let (mut with, mut without) = (Array4::<f32>::zeros(shape), Array4::<f32>::zeros(shape));
        let mut arg = Array4::<u32>::zeros(shape);
        max_pool2d(x.view(), &win, with.view_mut(), Some(arg.view_mut())).unwrap();
        max_pool2d(x.view(), &win, without.view_mut(), None).unwrap();
        for (a, b) in with.iter().zip(&without) {
            prop_assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}

/// Ties go to the first cell in row-major window order, in the fast path as in the general one.
#[test]
fn max_pool_ties_pick_the_first_cell() {
    let x = Array4::from_shape_fn((1, 1, 4, 6), |(_, _, y, x)| {
        ((y * 7 + x * 3) % 4 / 2) as f32
    });
    for stride in [(2, 2), (2, 3)] {
        let win = Window2d::new((4, 6), (2, 2), stride, Padding::Valid).unwrap();
        let mut out = Array4::<f32>::zeros((1, 1, win.out_h, win.out_w));
        let mut arg = Array4::<u32>::zeros((1, 1, win.out_h, win.out_w));
        max_pool2d(x.view(), &win, out.view_mut(), Some(arg.view_mut())).unwrap();
        for ((_, _, oy, ox), &at) in arg.indexed_iter() {
            let (y0, x0) = (oy * stride.0, ox * stride.1);
            let cells = [(y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)];
            let best = cells
                .iter()
                .map(|&(y, xx)| x[[0, 0, y, xx]])
                .fold(f32::MIN, f32::max);
            let first = cells
                .iter()
                .find(|&&(y, xx)| x[[0, 0, y, xx]] == best)
                .unwrap();
            assert_eq!(
                at as usize,
                first.0 * 6 + first.1,
                "stride {stride:?} at ({oy}, {ox})"
            );
        }
    }
}

#[test]
fn max_pool_propagates_nan() {
    let mut x = Array4::<f32>::zeros((1, 1, 2, 2));
    x[[0, 0, 1, 0]] = f32::NAN;
    let win = Window2d::new((2, 2), (2, 2), (2, 2), Padding::Valid).unwrap();
    let mut out = Array4::<f32>::zeros((1, 1, 1, 1));
    let mut arg = Array4::<u32>::zeros((1, 1, 1, 1));
    max_pool2d(x.view(), &win, out.view_mut(), Some(arg.view_mut())).unwrap();
    assert!(out[[0, 0, 0, 0]].is_nan());
    assert_eq!(arg[[0, 0, 0, 0]], 2);
}

#[test]
fn global_average_and_its_backward() {
    let x = Array4::from_shape_fn((2, 3, 2, 2), |(n, c, h, w)| {
        (n * 12 + c * 4 + h * 2 + w) as f64
    });
    let m = global_avg_pool2d(x.view());
    assert_eq!(m[[1, 2]], (20.0 + 21.0 + 22.0 + 23.0) / 4.0);
    let mut d = Array4::<f64>::zeros((2, 3, 2, 2));
    global_avg_pool2d_backward(Array2::from_elem((2, 3), 4.0).view(), d.view_mut()).unwrap();
    assert!(d.iter().all(|&v| v == 1.0));
    assert!(global_avg_pool2d_backward(Array2::<f64>::zeros((3, 2)).view(), d.view_mut()).is_err());
}

#[test]
fn wrong_shapes_are_errors() {
    let win = Window2d::new((4, 4), (2, 2), (2, 2), Padding::Valid).unwrap();
    let x = Array4::<f32>::zeros((1, 1, 4, 4));
    let mut out = Array4::<f32>::zeros((1, 1, 3, 3));
    let mut arg = Array4::<u32>::zeros((1, 1, 3, 3));
    assert!(max_pool2d(x.view(), &win, out.view_mut(), Some(arg.view_mut())).is_err());
    // A transposed (non-contiguous) output buffer is refused rather than written wrongly.
    let mut t = Array4::<f32>::zeros((1, 1, 2, 2));
    let tv = t.view_mut().permuted_axes([0, 1, 3, 2]);
    assert!(avg_pool2d(x.view(), &win, tv).is_err());
}
