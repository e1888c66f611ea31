//! Max and average pooling over NCHW planes, forward and backward.
//!
//! Each `(n, c)` plane is pooled independently, so planes are spread over rayon's threads. Both
//! inputs may be any layout; outputs must be contiguous standard-layout buffers (as allocated by
//! `Array4::zeros`) so each plane is one slice.

use ndarray::{ArrayView4, ArrayViewMut4};
use rayon::prelude::*;

use crate::{Float, Result, TensorError, Window2d};

fn out_shape(x: &[usize], win: &Window2d) -> [usize; 4] {
    [x[0], x[1], win.out_h, win.out_w]
}

fn check_input(op: &'static str, shape: &[usize], win: &Window2d) -> Result<()> {
    if (shape[2], shape[3]) != (win.in_h, win.in_w) {
        return Err(TensorError::mismatch(
            op,
            format!(
                "input {shape:?} has planes {}x{}, the window expects {}x{}",
                shape[2], shape[3], win.in_h, win.in_w
            ),
        ));
    }
    Ok(())
}

/// `a` as one slice, if it has the shape `want` and is contiguous.
pub(crate) fn contiguous_mut<'a, T>(
    op: &'static str,
    what: &str,
    a: &'a mut ArrayViewMut4<'_, T>,
    want: &[usize],
) -> Result<&'a mut [T]> {
    if a.shape() != want {
        return Err(TensorError::mismatch(
            op,
            format!("{what} is {:?}, expected {want:?}", a.shape()),
        ));
    }
    a.as_slice_mut().ok_or_else(|| {
        TensorError::mismatch(
            op,
            format!("{what} must be a contiguous standard-layout array"),
        )
    })
}

/// Max pooling: writes the maximum of each window into `out` `[N, C, OH, OW]` and, when
/// `argmax` is given (training), its position (`iy * W + ix` within the plane) for the backward
/// pass. Inference passes `None` and gets the same values from a branch-free loop.
///
/// Padding cells never win (they act as -inf). A NaN in a window propagates to the output, as in
/// PyTorch and TensorFlow; of equal values the first in row-major order wins.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the shapes do not fit `win` or an output is not contiguous.
pub fn max_pool2d<F: Float>(
    x: ArrayView4<'_, F>,
    win: &Window2d,
    mut out: ArrayViewMut4<'_, F>,
    argmax: Option<ArrayViewMut4<'_, u32>>,
) -> Result<()> {
    const OP: &str = "max_pool2d";
    check_input(OP, x.shape(), win)?;
    let want = out_shape(x.shape(), win);
    let out = contiguous_mut(OP, "output", &mut out, &want)?;
    let mut argmax = argmax;
    let argmax = match argmax.as_mut() {
        Some(a) => Some(contiguous_mut(OP, "argmax", a, &want)?),
        None => None,
    };
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let (plane_in, plane_out) = (win.in_len(), win.out_len());
    if plane_out == 0 {
        return Ok(());
    }
    let planes = x
        .par_chunks(plane_in)
        .zip(out.par_chunks_mut(plane_out))
        .with_min_len(planes_per_task(plane_in));
    match argmax {
        Some(argmax) => planes
            .zip(argmax.par_chunks_mut(plane_out))
            .for_each(|((x, out), argmax)| max_pool_plane(x, win, out, argmax)),
        None if is_2x2_stride_2(win) => {
            planes.for_each(|(x, out)| max_pool_plane_2x2_values(x, win, out))
        }
        None => planes.for_each(|(x, out)| {
            let mut argmax = vec![0; plane_out];
            max_pool_plane(x, win, out, &mut argmax)
        }),
    }
    Ok(())
}

/// Planes handed to one rayon task: about 16k input values, so task overhead stays small
/// next to the work (a 26x26 plane alone is far too little).
fn planes_per_task(plane_len: usize) -> usize {
    (16_384 / plane_len.max(1)).max(1)
}

/// The common 2x2 window with stride 2 and no padding.
fn is_2x2_stride_2(win: &Window2d) -> bool {
    let unpadded =
        win.pad_top == 0 && win.pad_left == 0 && win.pad_bottom == 0 && win.pad_right == 0;
    unpadded && (win.kernel_h, win.kernel_w, win.stride_h, win.stride_w) == (2, 2, 2, 2)
}

/// Whether `v` replaces `best` as a window's maximum: it is larger, or it is the window's first
/// NaN (a NaN, once in, stays).
#[inline(always)]
fn wins<F: Float>(best: F, v: F) -> bool {
    v > best || (v.is_nan() && !best.is_nan())
}

/// Max pooling of one plane.
fn max_pool_plane<F: Float>(x: &[F], win: &Window2d, out: &mut [F], argmax: &mut [u32]) {
    if is_2x2_stride_2(win) {
        return max_pool_plane_2x2(x, win, out, argmax);
    }
    let unpadded =
        win.pad_top == 0 && win.pad_left == 0 && win.pad_bottom == 0 && win.pad_right == 0;
    for oy in 0..win.out_h {
        for ox in 0..win.out_w {
            let mut best = F::neg_infinity();
            let mut best_at = u32::MAX;
            let mut consider = |at: usize| {
                let v = x[at];
                if best_at == u32::MAX || wins(best, v) {
                    best = v;
                    best_at = at as u32;
                }
            };
            if unpadded {
                // Every window lies inside the plane: no bounds to test per cell.
                let (y0, x0) = (oy * win.stride_h, ox * win.stride_w);
                for iy in y0..y0 + win.kernel_h {
                    for ix in x0..x0 + win.kernel_w {
                        consider(iy * win.in_w + ix);
                    }
                }
            } else {
                let (rows, cols) = window_cells(win, oy, ox);
                for iy in rows {
                    for ix in cols.clone() {
                        consider(iy * win.in_w + ix);
                    }
                }
            }
            out[oy * win.out_w + ox] = best;
            argmax[oy * win.out_w + ox] = best_at;
        }
    }
}

/// The 2x2, stride 2 case: the four cells read from two row slices, compared in the same
/// order (and with the same NaN rule) as the general loop.
fn max_pool_plane_2x2<F: Float>(x: &[F], win: &Window2d, out: &mut [F], argmax: &mut [u32]) {
    let (in_w, out_w) = (win.in_w, win.out_w);
    for oy in 0..win.out_h {
        let top = 2 * oy * in_w;
        let (r0, r1) = (
            &x[top..top + 2 * out_w],
            &x[top + in_w..top + in_w + 2 * out_w],
        );
        let out = &mut out[oy * out_w..(oy + 1) * out_w];
        let argmax = &mut argmax[oy * out_w..(oy + 1) * out_w];
        for (ox, (o, a)) in out.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let (c0, c1) = (2 * ox, 2 * ox + 1);
            let (mut best, mut at) = (r0[c0], top + c0);
            if wins(best, r0[c1]) {
                (best, at) = (r0[c1], top + c1);
            }
            if wins(best, r1[c0]) {
                (best, at) = (r1[c0], top + in_w + c0);
            }
            if wins(best, r1[c1]) {
                (best, at) = (r1[c1], top + in_w + c1);
            }
            *o = best;
            *a = at as u32;
        }
    }
}

/// [`max_pool_plane_2x2`] without the winners' positions, for inference: pairwise maxima
/// with no branches, which the compiler turns into vector code. "First maximum wins, a NaN
/// stays" is associative, so pairing the cells gives exactly the sequential loop's values.
fn max_pool_plane_2x2_values<F: Float>(x: &[F], win: &Window2d, out: &mut [F]) {
    let (in_w, out_w) = (win.in_w, win.out_w);
    let max = |best: F, v: F| if wins(best, v) { v } else { best };
    for (oy, out) in out.chunks_exact_mut(out_w).enumerate() {
        let top = 2 * oy * in_w;
        let r0 = &x[top..top + 2 * out_w];
        let r1 = &x[top + in_w..top + in_w + 2 * out_w];
        for ((o, a), b) in out
            .iter_mut()
            .zip(r0.chunks_exact(2))
            .zip(r1.chunks_exact(2))
        {
            *o = max(max(a[0], a[1]), max(b[0], b[1]));
        }
    }
}

/// Backward of [`max_pool2d`]: writes `d_x`, each output gradient added onto the input
/// position that won and zero elsewhere. Each task zeroes its own planes just before adding
/// into them, while they are in cache (a separate fill of the reference CNN's first pooling
/// input, 5.5 MB, was a serial pass of its own).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the shapes do not fit `win` or `d_x` is not contiguous.
pub fn max_pool2d_backward<F: Float>(
    d_out: ArrayView4<'_, F>,
    argmax: ArrayView4<'_, u32>,
    win: &Window2d,
    mut d_x: ArrayViewMut4<'_, F>,
) -> Result<()> {
    const OP: &str = "max_pool2d_backward";
    check_input(OP, d_x.shape(), win)?;
    let want = out_shape(d_x.shape(), win);
    if d_out.shape() != want || argmax.shape() != want {
        return Err(TensorError::mismatch(
            OP,
            format!(
                "gradient {:?} and argmax {:?} must both be {want:?}",
                d_out.shape(),
                argmax.shape()
            ),
        ));
    }
    let in_shape = d_x.shape().to_vec();
    let d_x = contiguous_mut(OP, "input gradient", &mut d_x, &in_shape)?;
    let (d_out, argmax) = (d_out.as_standard_layout(), argmax.as_standard_layout());
    let d_out = d_out.as_slice().expect("standard layout is contiguous");
    let argmax = argmax.as_slice().expect("standard layout is contiguous");
    let (plane_in, plane_out) = (win.in_len(), win.out_len());
    if plane_out == 0 {
        // No window: no gradient reaches the input.
        d_x.fill(F::zero());
        return Ok(());
    }
    d_x.par_chunks_mut(plane_in)
        .zip(
            d_out
                .par_chunks(plane_out)
                .zip(argmax.par_chunks(plane_out)),
        )
        .with_min_len(planes_per_task(plane_in))
        .for_each(|(d_x, (d_out, argmax))| {
            d_x.fill(F::zero());
            for (&g, &at) in d_out.iter().zip(argmax) {
                if let Some(slot) = d_x.get_mut(at as usize) {
                    *slot += g;
                }
            }
        });
    Ok(())
}

/// Average pooling into `out` `[N, C, OH, OW]`. Padding cells are not counted: each window is
/// divided by the number of real input cells it covers (Keras and ONNX `count_include_pad=0`).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the shapes do not fit `win` or `out` is not contiguous.
pub fn avg_pool2d<F: Float>(
    x: ArrayView4<'_, F>,
    win: &Window2d,
    mut out: ArrayViewMut4<'_, F>,
) -> Result<()> {
    const OP: &str = "avg_pool2d";
    check_input(OP, x.shape(), win)?;
    let want = out_shape(x.shape(), win);
    let out = contiguous_mut(OP, "output", &mut out, &want)?;
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    if win.out_len() == 0 {
        return Ok(());
    }
    x.par_chunks(win.in_len())
        .zip(out.par_chunks_mut(win.out_len()))
        .with_min_len(planes_per_task(win.in_len()))
        .for_each(|(x, out)| {
            for_each_window(win, |o, rows, cols| {
                let count = rows.len() * cols.len();
                let mut sum = F::zero();
                for iy in rows {
                    sum += x[iy * win.in_w + cols.start..iy * win.in_w + cols.end]
                        .iter()
                        .copied()
                        .sum();
                }
                // A window lying wholly in the padding has no cells; its average is defined as 0.
                out[o] = if count == 0 {
                    F::zero()
                } else {
                    sum / F::from_usize(count)
                };
            });
        });
    Ok(())
}

/// Backward of [`avg_pool2d`]: spreads each output gradient evenly over its window's real cells,
/// adding to `d_x`.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the shapes do not fit `win` or `d_x` is not contiguous.
pub fn avg_pool2d_backward<F: Float>(
    d_out: ArrayView4<'_, F>,
    win: &Window2d,
    mut d_x: ArrayViewMut4<'_, F>,
) -> Result<()> {
    const OP: &str = "avg_pool2d_backward";
    check_input(OP, d_x.shape(), win)?;
    let want = out_shape(d_x.shape(), win);
    if d_out.shape() != want {
        return Err(TensorError::mismatch(
            OP,
            format!("gradient is {:?}, expected {want:?}", d_out.shape()),
        ));
    }
    let in_shape = d_x.shape().to_vec();
    let d_x = contiguous_mut(OP, "input gradient", &mut d_x, &in_shape)?;
    let d_out = d_out.as_standard_layout();
    let d_out = d_out.as_slice().expect("standard layout is contiguous");
    if win.out_len() == 0 {
        return Ok(());
    }
    d_x.par_chunks_mut(win.in_len())
        .zip(d_out.par_chunks(win.out_len()))
        .with_min_len(planes_per_task(win.in_len()))
        .for_each(|(d_x, d_out)| {
            for_each_window(win, |o, rows, cols| {
                let count = rows.len() * cols.len();
                if count == 0 {
                    return;
                }
                let share = d_out[o] / F::from_usize(count);
                for iy in rows {
                    d_x[iy * win.in_w + cols.start..iy * win.in_w + cols.end]
                        .iter_mut()
                        .for_each(|g| *g += share);
                }
            });
        });
    Ok(())
}

/// The input rows and columns covered by output position `(oy, ox)`, clipped to the input.
fn window_cells(
    win: &Window2d,
    oy: usize,
    ox: usize,
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let clip = |start: usize, pad: usize, kernel: usize, len: usize| {
        let lo = start.saturating_sub(pad).min(len);
        let hi = (start + kernel).saturating_sub(pad).min(len);
        lo..hi.max(lo)
    };
    (
        clip(oy * win.stride_h, win.pad_top, win.kernel_h, win.in_h),
        clip(ox * win.stride_w, win.pad_left, win.kernel_w, win.in_w),
    )
}

/// Calls `f(output index, rows, columns)` for every window, with the window clipped to the input.
fn for_each_window(
    win: &Window2d,
    mut f: impl FnMut(usize, std::ops::Range<usize>, std::ops::Range<usize>),
) {
    for oy in 0..win.out_h {
        for ox in 0..win.out_w {
            let (rows, cols) = window_cells(win, oy, ox);
            f(oy * win.out_w + ox, rows, cols);
        }
    }
}

/// Global average pooling: the mean of each `[H, W]` plane, `[N, C, H, W] -> [N, C]`.
pub fn global_avg_pool2d<F: Float>(x: ArrayView4<'_, F>) -> ndarray::Array2<F> {
    let (n, c, h, w) = x.dim();
    let count = F::from_usize((h * w).max(1));
    ndarray::Array2::from_shape_fn((n, c), |(i, j)| {
        x.slice(ndarray::s![i, j, .., ..]).sum() / count
    })
}

/// Backward of [`global_avg_pool2d`]: adds `d_out[n, c] / (H * W)` to every cell of plane `(n, c)`.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when `d_out` is not `[N, C]` for `d_x` `[N, C, H, W]`.
pub fn global_avg_pool2d_backward<F: Float>(
    d_out: ndarray::ArrayView2<'_, F>,
    mut d_x: ArrayViewMut4<'_, F>,
) -> Result<()> {
    let (n, c, h, w) = d_x.dim();
    if d_out.dim() != (n, c) {
        return Err(TensorError::mismatch(
            "global_avg_pool2d_backward",
            format!(
                "gradient is {:?}, expected [{n}, {c}] for input {:?}",
                d_out.shape(),
                d_x.shape()
            ),
        ));
    }
    let count = F::from_usize((h * w).max(1));
    for ((i, j), &g) in d_out.indexed_iter() {
        d_x.slice_mut(ndarray::s![i, j, .., ..])
            .mapv_inplace(|v| v + g / count);
    }
    Ok(())
}
