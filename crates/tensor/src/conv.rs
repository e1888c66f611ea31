//! im2col / col2im: convolution as a matrix product, NCHW.
//!
//! `im2col` copies every window of a `[C, H, W]` sample into one column of a
//! `[C * KH * KW, OH * OW]` matrix (row `(c * KH + ky) * KW + kx`, column `oy * OW + ox`), so a
//! convolution with weights `[F, C * KH * KW]` becomes one GEMM per sample. `col2im` is its
//! adjoint: it adds each column entry back onto the input position it came from, which is exactly
//! the gradient of `im2col`.

use ndarray::{ArrayView3, ArrayView4, ArrayViewMut3, ArrayViewMut4, Axis, Zip};

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

fn check_plane(op: &'static str, shape: &[usize], win: &Window2d) -> Result<()> {
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
    let mut rows = cols.rows_mut().into_iter();
    for plane in x.outer_iter() {
        for ky in 0..win.kernel_h {
            for kx in 0..win.kernel_w {
                // One row of cols per (c, ky, kx); the iterator order matches the row index.
                let Some(mut row) = rows.next() else {
                    unreachable!("shape checked above")
                };
                for oy in 0..win.out_h {
                    let out = oy * win.out_w;
                    match win.input_row(oy, ky) {
                        None => (0..win.out_w).for_each(|ox| row[out + ox] = F::zero()),
                        Some(iy) => {
                            for ox in 0..win.out_w {
                                row[out + ox] = match win.input_col(ox, kx) {
                                    Some(ix) => plane[(iy, ix)],
                                    None => F::zero(),
                                };
                            }
                        }
                    }
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
    let mut rows = cols.rows().into_iter();
    for mut plane in d_x.outer_iter_mut() {
        for ky in 0..win.kernel_h {
            for kx in 0..win.kernel_w {
                let Some(row) = rows.next() else {
                    unreachable!("shape checked above")
                };
                for oy in 0..win.out_h {
                    let Some(iy) = win.input_row(oy, ky) else {
                        continue;
                    };
                    for ox in 0..win.out_w {
                        if let Some(ix) = win.input_col(ox, kx) {
                            plane[(iy, ix)] += row[oy * win.out_w + ox];
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
    if x.len_of(Axis(0)) != cols.len_of(Axis(0)) {
        return Err(TensorError::mismatch(
            "im2col_batch",
            format!(
                "input batch {:?} and column buffer {:?} differ in N",
                x.shape(),
                cols.shape()
            ),
        ));
    }
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
    if d_x.len_of(Axis(0)) != cols.len_of(Axis(0)) {
        return Err(TensorError::mismatch(
            "col2im_batch",
            format!(
                "gradient batch {:?} and column buffer {:?} differ in N",
                d_x.shape(),
                cols.shape()
            ),
        ));
    }
    check_plane("col2im_batch", d_x.shape(), win)?;
    check_cols("col2im_batch", d_x.shape()[1], win, &cols.shape()[1..])?;
    Zip::from(cols.outer_iter())
        .and(d_x.outer_iter_mut())
        .par_for_each(|col, sample| {
            col2im(col, win, sample).expect("shapes checked for the whole batch");
        });
    Ok(())
}
