//! Reductions along an axis, returning errors instead of panicking on a bad axis.
//!
//! Sums run in a fixed order on one thread, so they are reproducible bit for bit.

use ndarray::{ArrayD, ArrayViewD, Axis};

use crate::{Float, Result, Tensor, TensorError};

fn check_axis(op: &'static str, shape: &[usize], axis: usize) -> Result<()> {
    if axis >= shape.len() {
        return Err(TensorError::AxisOutOfRange {
            op,
            axis,
            shape: shape.to_vec(),
        });
    }
    Ok(())
}

fn check_non_empty(op: &'static str, shape: &[usize], axis: usize) -> Result<()> {
    check_axis(op, shape, axis)?;
    if shape[axis] == 0 {
        return Err(TensorError::invalid(
            op,
            "axis",
            axis,
            format!("has length 0 in shape {shape:?}"),
        ));
    }
    Ok(())
}

/// Sum along `axis` (removed from the shape).
///
/// ```
/// use ndarray::array;
/// let s = neurite_tensor::sum_axis(array![[1.0f32, 2.0], [3.0, 4.0]].into_dyn().view(), 0).unwrap();
/// assert_eq!(s.as_slice().unwrap(), &[4.0, 6.0]);
/// ```
///
/// # Errors
/// [`TensorError::AxisOutOfRange`].
pub fn sum_axis<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    check_axis("sum_axis", x.shape(), axis)?;
    Ok(x.sum_axis(Axis(axis)))
}

/// Mean along `axis`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`], or [`TensorError::InvalidArgument`] for an empty axis.
pub fn mean_axis<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    check_non_empty("mean_axis", x.shape(), axis)?;
    let n = F::from_usize(x.len_of(Axis(axis)));
    Ok(x.sum_axis(Axis(axis)).mapv(|v| v / n))
}

/// Population variance (divide by n, as Keras and BatchNorm use) along `axis`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`], or [`TensorError::InvalidArgument`] for an empty axis.
pub fn var_axis<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    let mean = mean_axis(x.view(), axis)?;
    let n = F::from_usize(x.len_of(Axis(axis)));
    let centered = &x - &mean.view().insert_axis(Axis(axis));
    Ok(centered
        .mapv(|v| v * v)
        .sum_axis(Axis(axis))
        .mapv(|v| v / n))
}

/// Maximum along `axis`; NaN wins, as in NumPy.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`], or [`TensorError::InvalidArgument`] for an empty axis.
pub fn max_axis<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    check_non_empty("max_axis", x.shape(), axis)?;
    Ok(x.map_axis(Axis(axis), |lane| {
        lane.iter().fold(F::neg_infinity(), |m, &v| {
            if m.is_nan() {
                m
            } else if v.is_nan() || v > m {
                v
            } else {
                m
            }
        })
    }))
}

/// Minimum along `axis`; NaN wins, as in NumPy.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`], or [`TensorError::InvalidArgument`] for an empty axis.
pub fn min_axis<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<Tensor<F>> {
    let negated = x.mapv(|v| -v);
    Ok(max_axis(negated.view(), axis)?.mapv(|v| -v))
}

/// Index of the maximum along `axis`; the first one on ties, and the first NaN if any (NumPy's
/// `argmax` rules).
///
/// ```
/// use ndarray::array;
/// let i = neurite_tensor::argmax_axis(array![[0.1f32, 0.7, 0.2], [0.5, 0.5, 0.0]].into_dyn().view(), 1).unwrap();
/// assert_eq!(i.as_slice().unwrap(), &[1, 0]);
/// ```
///
/// # Errors
/// [`TensorError::AxisOutOfRange`], or [`TensorError::InvalidArgument`] for an empty axis.
pub fn argmax_axis<F: Float>(x: ArrayViewD<'_, F>, axis: usize) -> Result<ArrayD<usize>> {
    check_non_empty("argmax_axis", x.shape(), axis)?;
    Ok(x.map_axis(Axis(axis), |lane| {
        let mut best = 0;
        for (i, &v) in lane.iter().enumerate() {
            if v.is_nan() {
                return i;
            }
            if v > lane[best] {
                best = i;
            }
        }
        best
    }))
}
