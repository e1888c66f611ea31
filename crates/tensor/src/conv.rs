//! im2col / col2im: convolution as a matrix product, NCHW.
//!
//! `im2col` copies every window of a `[C, H, W]` sample into one column of a
//! `[C * KH * KW, OH * OW]` matrix (row `(c * KH + ky) * KW + kx`, column `oy * OW + ox`), so a
//! convolution with weights `[F, C * KH * KW]` becomes one GEMM per sample. `col2im` is its
//! adjoint: it adds each column entry back onto the input position it came from, which is exactly
//! the gradient of `im2col`.

use ndarray::{ArrayView3, ArrayView4, ArrayViewMut3, ArrayViewMut4, Axis, Zip};
use rayon::prelude::*;

use crate::{Float, Result, TensorError, Window2d};

fn check_cols(op: &'static str, channels: usize, win: &Window2d, cols: &[usize]) -> Result<()> {
    let want = [channels * win.kernel_len(), win.out_len()];
    if cols != want {
        return Err(TensorError::mismatch(
            op,
            format!("column buffer is {cols:?}, expected {want:?}"),
        ));
    }
    Ok(())
}

/// Checks that a per-sample column buffer `[N, ...]` has the batch size of the images.
fn check_same_batch(op: &'static str, images: &[usize], cols: &[usize]) -> Result<()> {
    if images[0] != cols[0] {
        return Err(TensorError::mismatch(
            op,
            format!("images {images:?} and column buffer {cols:?} differ in N"),
        ));
    }
    Ok(())
}

/// Checks that a wide column buffer is `[C * KH * KW, N * OH * OW]`.
fn check_wide_cols(
    op: &'static str,
    n: usize,
    c: usize,
    win: &Window2d,
    cols: &[usize],
) -> Result<()> {
    let want = [c * win.kernel_len(), n * win.out_len()];
    if cols != want {
        return Err(TensorError::mismatch(
            op,
            format!("column buffer is {cols:?}, expected {want:?}"),
        ));
    }
    Ok(())
}

/// Checks a direct convolution's arguments: an `[N, C, H, W]` input with channels and the
/// window's planes, a weight `[F, C * KH * KW]` and a bias of F values. Returns `(N, C, F)`.
pub(crate) fn check_conv_args(
    op: &'static str,
    x: &[usize],
    weight: &[usize],
    bias: Option<&[f32]>,
    win: &Window2d,
) -> Result<(usize, usize, usize)> {
    let &[n, c, _, _] = x else {
        return Err(TensorError::mismatch(
            op,
            format!("input {x:?} must be [N, C, H, W]"),
        ));
    };
    if c == 0 {
        return Err(TensorError::mismatch(op, "the input has no channels"));
    }
    check_plane(op, x, win)?;
    let (f, ckk) = (weight[0], c * win.kernel_len());
    if weight[1] != ckk {
        let detail = format!(
            "weight {weight:?} must be [filters, {ckk}] for {c} channels and a {}x{} window",
            win.kernel_h, win.kernel_w
        );
        return Err(TensorError::mismatch(op, detail));
    }
    if let Some(b) = bias.filter(|b| b.len() != f) {
        let detail = format!("bias has {} values for {f} filters", b.len());
        return Err(TensorError::mismatch(op, detail));
    }
    Ok((n, c, f))
}

/// Checks that `win` is a window [`Window2d::new`] builds and that the planes of `shape` are its
/// input. Every unfolded view and fused kernel comes through here, and their unsafe code
/// addresses the input through the window's output size: a hand-edited `out_h` or `kernel_h`
/// must be an error, not a read past the planes.
pub(crate) fn check_plane(op: &'static str, shape: &[usize], win: &Window2d) -> Result<()> {
    if !win.is_consistent() {
        return Err(TensorError::invalid(
            op,
            "window",
            format!("{win:?}"),
            "does not follow from its input, kernel, stride and padding (see Window2d::new)",
        ));
    }
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    if (h, w) != (win.in_h, win.in_w) {
        return Err(TensorError::mismatch(
            op,
            format!(
                "input planes are {h}x{w} but the window was built for {}x{}",
                win.in_h, win.in_w
            ),
        ));
    }
    Ok(())
}

/// The output columns `lo..hi` whose window column `k` lands inside the input (not padding).
fn valid_outputs(
    out_len: usize,
    stride: usize,
    k: usize,
    pad: usize,
    in_len: usize,
) -> (usize, usize) {
    // ox is valid when pad <= ox * stride + k < pad + in_len.
    let lo = pad.saturating_sub(k).div_ceil(stride).min(out_len);
    let hi = (pad + in_len)
        .saturating_sub(k)
        .div_ceil(stride)
        .min(out_len);
    (lo, hi.max(lo))
}

/// Copies a short run (an output row of a few to a few dozen values) with inlined 8-wide moves:
/// a `memcpy` call per run would cost more than the copy itself.
#[inline(always)]
fn copy_run<F: Copy>(dst: &mut [F], src: &[F]) {
    let n = dst.len();
    debug_assert_eq!(n, src.len());
    if n < 8 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
        return;
    }
    let mut i = 0;
    while i + 8 <= n {
        let d: &mut [F; 8] = (&mut dst[i..i + 8]).try_into().expect("8 values");
        *d = src[i..i + 8].try_into().expect("8 values");
        i += 8;
    }
    if i < n {
        // The last 8 values again, overlapping the copied part: one more fixed-size move.
        let d: &mut [F; 8] = (&mut dst[n - 8..]).try_into().expect("8 values");
        *d = src[n - 8..].try_into().expect("8 values");
    }
}

/// Unfolds one sample `[C, H, W]` into `cols` `[C * KH * KW, OH * OW]` (overwritten).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the sample or buffer does not fit `win`.
pub fn im2col<F: Float>(
    x: ArrayView3<'_, F>,
    win: &Window2d,
    mut cols: ndarray::ArrayViewMut2<'_, F>,
) -> Result<()> {
    check_plane("im2col", x.shape(), win)?;
    check_cols("im2col", x.shape()[0], win, cols.shape())?;
    // Rows of the input and of cols are walked as slices: most of a convolution's copying
    // happens here, and per-element indexing would cost more than the GEMM that follows.
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let (ow, in_w) = (win.out_w, win.in_w);
    let dense = (win.stride_h, win.stride_w) == (1, 1)
        && win.pad_top + win.pad_left + win.pad_bottom + win.pad_right == 0;
    for (r, mut row) in cols.rows_mut().into_iter().enumerate() {
        let (c, ky, kx) = (
            r / win.kernel_len(),
            r / win.kernel_w % win.kernel_h,
            r % win.kernel_w,
        );
        let plane = &x[c * win.in_len()..(c + 1) * win.in_len()];
        if let (true, Some(dst)) = (dense && ow > 0, row.as_slice_mut()) {
            // Stride 1 without padding (the common case): row oy of the window's view is the
            // input row oy + ky from column kx, every value valid.
            for (oy, dst) in dst.chunks_exact_mut(ow).enumerate() {
                let start = (oy + ky) * in_w + kx;
                copy_run(dst, &plane[start..start + ow]);
            }
            continue;
        }
        let (lo, hi) = valid_outputs(ow, win.stride_w, kx, win.pad_left, in_w);
        let fill = |oy: usize, dst: &mut dyn FnMut(usize, F)| match win.input_row(oy, ky) {
            None => (0..ow).for_each(|ox| dst(ox, F::zero())),
            Some(iy) => {
                let src = &plane[iy * in_w..(iy + 1) * in_w];
                (0..lo).chain(hi..ow).for_each(|ox| dst(ox, F::zero()));
                (lo..hi).for_each(|ox| dst(ox, src[ox * win.stride_w + kx - win.pad_left]));
            }
        };
        match row.as_slice_mut() {
            Some(row) => {
                for (oy, dst) in row.chunks_exact_mut(ow).enumerate() {
                    match (win.input_row(oy, ky), win.stride_w) {
                        (Some(iy), 1) if lo < hi => {
                            // Stride 1: the valid part is one contiguous run of the input row.
                            let start = iy * in_w + lo + kx - win.pad_left;
                            if lo > 0 {
                                dst[..lo].fill(F::zero());
                            }
                            copy_run(&mut dst[lo..hi], &plane[start..start + (hi - lo)]);
                            if hi < ow {
                                dst[hi..].fill(F::zero());
                            }
                        }
                        _ => fill(oy, &mut |ox, v| dst[ox] = v),
                    }
                }
            }
            None => {
                for oy in 0..win.out_h {
                    fill(oy, &mut |ox, v| row[oy * ow + ox] = v);
                }
            }
        }
    }
    Ok(())
}

/// Folds `cols` `[C * KH * KW, OH * OW]` back onto one sample `[C, H, W]`, adding to what is
/// there (the adjoint of [`im2col`]).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the sample or buffer does not fit `win`.
pub fn col2im<F: Float>(
    cols: ndarray::ArrayView2<'_, F>,
    win: &Window2d,
    mut d_x: ArrayViewMut3<'_, F>,
) -> Result<()> {
    check_plane("col2im", d_x.shape(), win)?;
    check_cols("col2im", d_x.shape()[0], win, cols.shape())?;
    let (ow, in_w) = (win.out_w, win.in_w);
    for (c, mut plane) in d_x.outer_iter_mut().enumerate() {
        for ky in 0..win.kernel_h {
            for kx in 0..win.kernel_w {
                let row = cols.row((c * win.kernel_h + ky) * win.kernel_w + kx);
                let (lo, hi) = valid_outputs(ow, win.stride_w, kx, win.pad_left, in_w);
                for oy in 0..win.out_h {
                    let Some(iy) = win.input_row(oy, ky) else {
                        continue;
                    };
                    let mut dst = plane.row_mut(iy);
                    match (dst.as_slice_mut(), row.as_slice()) {
                        (Some(dst), Some(src)) if win.stride_w == 1 && lo < hi => {
                            // Stride 1: one contiguous run of the input row, added as slices
                            // (vectorized, no index arithmetic per value).
                            let start = lo + kx - win.pad_left;
                            let dst = &mut dst[start..start + (hi - lo)];
                            let src = &src[oy * ow + lo..oy * ow + hi];
                            for (d, &s) in dst.iter_mut().zip(src) {
                                *d += s;
                            }
                        }
                        (Some(dst), Some(src)) => {
                            let src = &src[oy * ow..(oy + 1) * ow];
                            for ox in lo..hi {
                                dst[ox * win.stride_w + kx - win.pad_left] += src[ox];
                            }
                        }
                        _ => {
                            for ox in lo..hi {
                                dst[ox * win.stride_w + kx - win.pad_left] += row[oy * ow + ox];
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// [`im2col`] for a whole batch `[N, C, H, W]` into `cols` `[N, C * KH * KW, OH * OW]`, one
/// sample per rayon task.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the batch sizes differ or a sample does not fit `win`.
pub fn im2col_batch<F: Float>(
    x: ArrayView4<'_, F>,
    win: &Window2d,
    mut cols: ArrayViewMut3<'_, F>,
) -> Result<()> {
    check_same_batch("im2col_batch", x.shape(), cols.shape())?;
    check_plane("im2col_batch", x.shape(), win)?;
    check_cols("im2col_batch", x.shape()[1], win, &cols.shape()[1..])?;
    Zip::from(x.outer_iter())
        .and(cols.outer_iter_mut())
        .par_for_each(|sample, col| {
            im2col(sample, win, col).expect("shapes checked for the whole batch");
        });
    Ok(())
}

/// [`col2im`] for a whole batch: `cols` `[N, C * KH * KW, OH * OW]` added onto `d_x`
/// `[N, C, H, W]`, one sample per rayon task.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the batch sizes differ or a sample does not fit `win`.
pub fn col2im_batch<F: Float>(
    cols: ndarray::ArrayView3<'_, F>,
    win: &Window2d,
    mut d_x: ArrayViewMut4<'_, F>,
) -> Result<()> {
    check_same_batch("col2im_batch", d_x.shape(), cols.shape())?;
    check_plane("col2im_batch", d_x.shape(), win)?;
    check_cols("col2im_batch", d_x.shape()[1], win, &cols.shape()[1..])?;
    Zip::from(cols.outer_iter())
        .and(d_x.outer_iter_mut())
        .par_for_each(|col, sample| {
            col2im(col, win, sample).expect("shapes checked for the whole batch");
        });
    Ok(())
}

/// [`im2col`] for a whole batch `[N, C, H, W]` into one wide matrix `[C * KH * KW, N * OH * OW]`
/// (sample `n` owns columns `n * OH * OW ..`), so a convolution is a single large GEMM
/// `[F, C * KH * KW] x [C * KH * KW, N * OH * OW]`, far more efficient than one small GEMM per
/// sample when `OH * OW` is small. Samples are unfolded in parallel.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the buffer is not `[C * KH * KW, N * OH * OW]` or the
/// planes do not fit `win`.
pub fn im2col_wide<F: Float>(
    x: ArrayView4<'_, F>,
    win: &Window2d,
    mut cols: ndarray::ArrayViewMut2<'_, F>,
) -> Result<()> {
    let (n, c) = (x.shape()[0], x.shape()[1]);
    check_plane("im2col_wide", x.shape(), win)?;
    check_wide_cols("im2col_wide", n, c, win, cols.shape())?;
    if n == 0 || win.out_len() == 0 {
        return Ok(());
    }
    if let (true, Some(x), Some(cols)) = (is_dense(win), x.as_slice(), cols.as_slice_mut()) {
        im2col_wide_dense(x, win, c, cols);
        return Ok(());
    }
    let blocks: Vec<_> = cols.axis_chunks_iter_mut(Axis(1), win.out_len()).collect();
    x.outer_iter()
        .into_par_iter()
        .zip(blocks)
        .for_each(|(sample, col)| {
            im2col(sample, win, col).expect("shapes checked for the whole batch");
        });
    Ok(())
}

/// The adjoint of [`im2col_wide`]: adds the wide column matrix `[C * KH * KW, N * OH * OW]` back
/// onto `d_x` `[N, C, H, W]`, samples in parallel.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the shapes do not agree.
pub fn col2im_wide<F: Float>(
    cols: ndarray::ArrayView2<'_, F>,
    win: &Window2d,
    mut d_x: ArrayViewMut4<'_, F>,
) -> Result<()> {
    let (n, c) = (d_x.shape()[0], d_x.shape()[1]);
    check_plane("col2im_wide", d_x.shape(), win)?;
    check_wide_cols("col2im_wide", n, c, win, cols.shape())?;
    if n == 0 || win.out_len() == 0 {
        return Ok(());
    }
    if let (true, Some(cols), true) = (is_dense(win), cols.as_slice(), d_x.is_standard_layout()) {
        col2im_wide_dense(cols, win, c, d_x);
        return Ok(());
    }
    let blocks: Vec<_> = cols.axis_chunks_iter(Axis(1), win.out_len()).collect();
    d_x.outer_iter_mut()
        .into_par_iter()
        .zip(blocks)
        .for_each(|(sample, col)| {
            col2im(col, win, sample).expect("shapes checked for the whole batch");
        });
    Ok(())
}

/// Stride 1 and no padding: every window cell is a valid input cell.
fn is_dense(win: &Window2d) -> bool {
    (win.stride_h, win.stride_w) == (1, 1)
        && win.pad_top + win.pad_left + win.pad_bottom + win.pad_right == 0
}

/// [`im2col_wide`] for a dense window on contiguous buffers, one column-matrix row per task:
/// row `(c, ky, kx)` holds, sample after sample, the input rows `oy + ky` from column `kx`. The
/// writes run along the row, with no per-sample view to set up (planes of 5x5 make that
/// bookkeeping cost more than the copying).
fn im2col_wide_dense<F: Float>(x: &[F], win: &Window2d, channels: usize, cols: &mut [F]) {
    let (plane, ow, in_w) = (win.in_len(), win.out_w, win.in_w);
    let positions = win.out_len();
    let np = cols.len() / (channels * win.kernel_len());
    cols.par_chunks_mut(np).enumerate().for_each(|(r, row)| {
        let (c, ky, kx) = (
            r / win.kernel_len(),
            r / win.kernel_w % win.kernel_h,
            r % win.kernel_w,
        );
        for (n, dst) in row.chunks_exact_mut(positions).enumerate() {
            let src = &x[(n * channels + c) * plane..(n * channels + c + 1) * plane];
            for (oy, dst) in dst.chunks_exact_mut(ow).enumerate() {
                let start = (oy + ky) * in_w + kx;
                copy_run(dst, &src[start..start + ow]);
            }
        }
    });
}

/// [`col2im_wide`] for a dense window, one input channel per task: channel `c`'s gradient
/// planes take contributions from its `KH * KW` column rows only, so tasks never add to the same
/// value, and each task reads its rows front to back (sample after sample) while its planes
/// (`N x H x W`, 43 KB for the CNN's second convolution) stay in cache.
fn col2im_wide_dense<F: Float>(
    cols: &[F],
    win: &Window2d,
    channels: usize,
    mut d_x: ArrayViewMut4<'_, F>,
) {
    let (ow, in_w) = (win.out_w, win.in_w);
    let positions = win.out_len();
    let np = cols.len() / (channels * win.kernel_len());
    d_x.axis_iter_mut(Axis(1))
        .into_par_iter()
        .enumerate()
        .for_each(|(c, mut planes)| {
            for k in 0..win.kernel_len() {
                let (ky, kx) = (k / win.kernel_w, k % win.kernel_w);
                let r = c * win.kernel_len() + k;
                let row = &cols[r * np..(r + 1) * np];
                for (src, mut plane) in row.chunks_exact(positions).zip(planes.outer_iter_mut()) {
                    let dst = plane.as_slice_mut().expect("planes of a standard array");
                    for (oy, src) in src.chunks_exact(ow).enumerate() {
                        let start = (oy + ky) * in_w + kx;
                        for (d, &v) in dst[start..start + ow].iter_mut().zip(src) {
                            *d += v;
                        }
                    }
                }
            }
        });
}
