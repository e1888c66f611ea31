//! Numerically stable softmax and log-softmax along any axis, and the softmax backward pass.
//!
//! Both subtract the lane's maximum before exponentiating, so inputs of 1e4 do not overflow.
//! `-inf` entries (masks) get probability 0. A lane that is entirely `-inf` has no distribution;
//! it gets all zeros from softmax and all `-inf` from log-softmax, never NaN.

use ndarray::{ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, Axis, Zip};

use crate::{Float, Result, Tensor, TensorError};

fn check(op: &'static str, x: &[usize], y: &[usize], axis: usize) -> Result<()> {
    if axis >= x.len() {
        return Err(TensorError::AxisOutOfRange {
            op,
            axis,
            shape: x.to_vec(),
        });
    }
    if x != y {
        return Err(TensorError::mismatch(
            op,
            format!("input {x:?} and output {y:?} differ"),
        ));
    }
    Ok(())
}

fn lane_max<F: Float>(lane: &ndarray::ArrayView1<'_, F>) -> F {
    lane.iter().fold(
        F::neg_infinity(),
        |m, &v| if v > m || v.is_nan() { v } else { m },
    )
}

/// Softmax of `x` along `axis` into `y` (same shape).
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] or [`TensorError::ShapeMismatch`].
pub fn softmax_into<F: Float>(
    x: ArrayViewD<'_, F>,
    axis: usize,
    mut y: ArrayViewMutD<'_, F>,
) -> Result<()> {
    check("softmax", x.shape(), y.shape(), axis)?;
    // Rows of a classifier's output, contiguous: slices, without a lane iterator per row.
    let len = x.shape()[axis];
    if let (true, Some(x), Some(y)) = (
        axis + 1 == x.ndim() && len > 0,
        x.as_slice(),
        y.as_slice_mut(),
    ) {
        for (x, y) in x.chunks_exact(len).zip(y.chunks_exact_mut(len)) {
            softmax_lane(ArrayView1::from(x), ArrayViewMut1::from(y));
        }
        return Ok(());
    }
    Zip::from(x.lanes(Axis(axis)))
        .and(y.lanes_mut(Axis(axis)))
        .for_each(softmax_lane);
    Ok(())
}

/// Softmax of one lane `x` into `y`.
fn softmax_lane<F: Float>(x: ArrayView1<'_, F>, mut y: ArrayViewMut1<'_, F>) {
    let max = lane_max(&x);
    if max == F::neg_infinity() {
        y.fill(F::zero());
        return;
    }
    let mut sum = F::zero();
    Zip::from(&mut y).and(&x).for_each(|y, &x| {
        *y = (x - max).exp();
        sum += *y;
    });
    let inv = F::one() / sum;
    y.mapv_inplace(|v| v * inv);
}

/// Softmax of `x` along `axis`, as a new tensor.
///
/// ```
/// use ndarray::array;
/// use neurite_tensor::softmax;
/// let p = softmax(array![[1e4f32, 0.0, f32::NEG_INFINITY]].into_dyn().view(), 1).unwrap();
/// assert_eq!(p.as_slice().unwrap(), &[1.0, 0.0, 0.0]);
/// ```
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] when `axis` is not an axis of `x`.
pub fn softmax<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    let mut y = Tensor::zeros(x.raw_dim());
    softmax_into(x, axis, y.view_mut())?;
    Ok(y)
}

/// Log-softmax of `x` along `axis` into `y`: `x - max - ln(sum(exp(x - max)))`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] or [`TensorError::ShapeMismatch`].
pub fn log_softmax_into<F: Float>(
    x: ArrayViewD<'_, F>,
    axis: usize,
    mut y: ArrayViewMutD<'_, F>,
) -> Result<()> {
    check("log_softmax", x.shape(), y.shape(), axis)?;
    Zip::from(x.lanes(Axis(axis)))
        .and(y.lanes_mut(Axis(axis)))
        .for_each(|x, mut y| {
            let max = lane_max(&x);
            if max == F::neg_infinity() {
                y.fill(F::neg_infinity());
                return;
            }
            let sum: F = x.iter().map(|&v| (v - max).exp()).sum();
            let shift = max + sum.ln();
            Zip::from(&mut y).and(&x).for_each(|y, &x| *y = x - shift);
        });
    Ok(())
}

/// Log-softmax of `x` along `axis`, as a new tensor.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] when `axis` is not an axis of `x`.
pub fn log_softmax<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    let mut y = Tensor::zeros(x.raw_dim());
    log_softmax_into(x, axis, y.view_mut())?;
    Ok(y)
}

/// Backward of softmax along `axis`: `d_x = y * (d_y - sum(d_y * y))`, overwriting `d_x`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] or [`TensorError::ShapeMismatch`].
pub fn softmax_backward<F: Float>(
    y: ArrayViewD<'_, F>,
    d_y: ArrayViewD<'_, F>,
    axis: usize,
    mut d_x: ArrayViewMutD<'_, F>,
) -> Result<()> {
    check("softmax_backward", y.shape(), d_y.shape(), axis)?;
    check("softmax_backward", y.shape(), d_x.shape(), axis)?;
    Zip::from(y.lanes(Axis(axis)))
        .and(d_y.lanes(Axis(axis)))
        .and(d_x.lanes_mut(Axis(axis)))
        .for_each(|y, d_y, mut d_x| {
            let dot: F = y.iter().zip(&d_y).map(|(&y, &g)| y * g).sum();
            Zip::from(&mut d_x)
                .and(&y)
                .and(&d_y)
                .for_each(|d_x, &y, &g| *d_x = y * (g - dot));
        });
    Ok(())
}
