//! General matrix multiply: `C = alpha * op(A) * op(B) + beta * C`, on matrixmultiply.
//!
//! Most of the training time is spent here. matrixmultiply supplies the packed, vectorized
//! single-thread kernel; this module adds transposes (free: they only swap strides) and a split
//! of C across rayon. The split depends only on the matrix sizes, never on the thread count, and
//! every element of C is computed by one kernel call with the full K loop in a fixed order, so the
//! result is bit-identical with 1, 2 or 64 threads.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::{Epilogue, Float, MatMut, MatRef, Result, TensorError, sgemm, sgemm_serial};

type F32Views<'a, 'b, 'c> = (
    ArrayView2<'a, f32>,
    ArrayView2<'b, f32>,
    ArrayViewMut2<'c, f32>,
);

/// The operands typed as f32, when `F` is f32.
fn as_f32<'a, 'b, 'c, F: Float>(
    a: ArrayView2<'a, F>,
    b: ArrayView2<'b, F>,
    c: ArrayViewMut2<'c, F>,
) -> Option<F32Views<'a, 'b, 'c>> {
    Some((F::as_f32(a)?, F::as_f32(b)?, F::as_f32_mut(c)?))
}

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// Use the matrix as it is.
    No,
    /// Use the matrix transposed.
    Yes,
}

impl Transpose {
    /// `a` as the product reads it: itself, or its transpose (a view either way).
    ///
    /// ```
    /// use neurite_tensor::Transpose;
    /// let a = ndarray::array![[1.0, 2.0, 3.0]];
    /// assert_eq!(Transpose::Yes.apply(a.view()).shape(), &[3, 1]);
    /// ```
    pub fn apply<T>(self, a: ArrayView2<'_, T>) -> ArrayView2<'_, T> {
        match self {
            Transpose::No => a,
            Transpose::Yes => a.reversed_axes(),
        }
    }
}

/// Below this many multiply-adds a product runs on the calling thread: splitting would cost
/// more in task overhead than it saves.
const MIN_PARALLEL_WORK: usize = 1 << 17;
/// Smallest slice of C's rows (or columns) given to one task; a multiple of the kernel tiles.
const MIN_CHUNK: usize = 32;
/// At most this many tasks per product, enough to balance across typical core counts.
const MAX_TASKS: usize = 16;

/// `C = alpha * op(A) * op(B) + beta * C`, split across rayon's threads.
///
/// # Shapes
/// `op(A)`: `[M, K]`, `op(B)`: `[K, N]`, `C`: `[M, N]`. Any strides are accepted (transposed or
/// sliced views). With `beta == 0` the previous contents of C are ignored (even NaN).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the inner dimensions or C's shape disagree.
///
/// ```
/// use ndarray::array;
/// use neurite_tensor::{gemm, Transpose};
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let b = array![[5.0f32, 6.0], [7.0, 8.0]];
/// let mut c = ndarray::Array2::<f32>::zeros((2, 2));
/// gemm(1.0, a.view(), Transpose::No, b.view(), Transpose::Yes, 0.0, c.view_mut()).unwrap();
/// assert_eq!(c, array![[17.0, 23.0], [39.0, 53.0]]);
/// ```
pub fn gemm<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    trans_a: Transpose,
    b: ArrayView2<'_, F>,
    trans_b: Transpose,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) -> Result<()> {
    let (a, b) = apply_transposes(a, trans_a, b, trans_b);
    check_shapes(&a, &b, &c)?;
    if let Some((a, b, c)) = as_f32(a, b, c.view_mut()) {
        // neurite's kernels split the work themselves (packing each operand once per task).
        let epilogue = Epilogue::default()
            .alpha(alpha.as_f64() as f32)
            .beta(beta.as_f64() as f32);
        return sgemm(MatRef::new(a), MatRef::new(b), MatMut::new(c), epilogue);
    }
    let (m, k) = a.dim();
    let n = b.ncols();
    match split_plan(m, n, k) {
        None => kernel(alpha, a, b, beta, c),
        Some((Axis(0), chunk)) => {
            let tasks: Vec<_> = a
                .axis_chunks_iter(Axis(0), chunk)
                .zip(c.axis_chunks_iter_mut(Axis(0), chunk))
                .collect();
            tasks
                .into_par_iter()
                .for_each(|(a_rows, c_rows)| kernel(alpha, a_rows, b, beta, c_rows));
        }
        Some((_, chunk)) => {
            let tasks: Vec<_> = b
                .axis_chunks_iter(Axis(1), chunk)
                .zip(c.axis_chunks_iter_mut(Axis(1), chunk))
                .collect();
            tasks
                .into_par_iter()
                .for_each(|(b_cols, c_cols)| kernel(alpha, a, b_cols, beta, c_cols));
        }
    }
    Ok(())
}

/// The same product on the calling thread only, for callers that already run in parallel
/// (one convolution GEMM per sample, say).
///
/// # Errors
/// As [`gemm`].
pub fn gemm_serial<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    trans_a: Transpose,
    b: ArrayView2<'_, F>,
    trans_b: Transpose,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) -> Result<()> {
    let (a, b) = apply_transposes(a, trans_a, b, trans_b);
    check_shapes(&a, &b, &c)?;
    if let Some((a, b, c)) = as_f32(a, b, c.view_mut()) {
        let epilogue = Epilogue::default()
            .alpha(alpha.as_f64() as f32)
            .beta(beta.as_f64() as f32);
        return sgemm_serial(MatRef::new(a), MatRef::new(b), MatMut::new(c), epilogue);
    }
    kernel(alpha, a, b, beta, c);
    Ok(())
}

/// `op(A) * op(B)` into a new matrix.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the inner dimensions disagree.
pub fn matmul<F: Float>(
    a: ArrayView2<'_, F>,
    trans_a: Transpose,
    b: ArrayView2<'_, F>,
    trans_b: Transpose,
) -> Result<ndarray::Array2<F>> {
    let m = if trans_a == Transpose::Yes {
        a.ncols()
    } else {
        a.nrows()
    };
    let n = if trans_b == Transpose::Yes {
        b.nrows()
    } else {
        b.ncols()
    };
    let mut c = ndarray::Array2::zeros((m, n));
    gemm(F::one(), a, trans_a, b, trans_b, F::zero(), c.view_mut())?;
    Ok(c)
}

fn apply_transposes<'a, 'b, F>(
    a: ArrayView2<'a, F>,
    trans_a: Transpose,
    b: ArrayView2<'b, F>,
    trans_b: Transpose,
) -> (ArrayView2<'a, F>, ArrayView2<'b, F>) {
    (trans_a.apply(a), trans_b.apply(b))
}

fn check_shapes<F>(
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    c: &ArrayViewMut2<'_, F>,
) -> Result<()> {
    if a.ncols() != b.nrows() || c.dim() != (a.nrows(), b.ncols()) {
        return Err(TensorError::mismatch(
            "gemm",
            format!(
                "op(A) is {:?}, op(B) is {:?} and C is {:?}; need [M, K] x [K, N] -> [M, N]",
                a.shape(),
                b.shape(),
                c.shape()
            ),
        ));
    }
    Ok(())
}

/// Which axis of C to split and into chunks of what size, from the sizes alone.
fn split_plan(m: usize, n: usize, k: usize) -> Option<(Axis, usize)> {
    if m.saturating_mul(n).saturating_mul(k) < MIN_PARALLEL_WORK {
        return None;
    }
    let (axis, len) = if m >= n { (Axis(0), m) } else { (Axis(1), n) };
    let chunk = len.div_ceil(MAX_TASKS).next_multiple_of(8).max(MIN_CHUNK);
    (chunk < len).then_some((axis, chunk))
}

fn kernel<F: Float>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: only the beta term is left (beta == 0 overwrites, like BLAS).
        if beta == F::zero() {
            c.fill(F::zero());
        } else {
            c.mapv_inplace(|v| v * beta);
        }
        return;
    }
    // SAFETY: `F::gemm_raw` computes `c = alpha a b + beta c` for any strides, reading and
    // writing only the matrices its pointers and strides describe (its contract), and the
    // shapes fit: `gemm` and `gemm_serial` ran `check_shapes`, and their splits cut A's rows
    // with C's rows, or B's columns with C's columns.
    unsafe { strided_product(alpha, a, b, beta, c, F::gemm_raw) }
}

/// The signature of a strided BLAS-style product (matrixmultiply's and [`Float::gemm_raw`]):
/// `m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc`. Calling one is unsafe on
/// the terms of [`Float::gemm_raw`]: the pointers and strides describe valid matrices, `c`
/// writable and apart from `a` and `b`.
type RawProduct<F> = unsafe fn(
    usize,
    usize,
    usize,
    F,
    *const F,
    isize,
    isize,
    *const F,
    isize,
    isize,
    F,
    *mut F,
    isize,
    isize,
);

/// Calls `product` on the views' pointers and element strides.
///
/// # Safety
/// `product` computes `c = alpha a b + beta c` for any strides, reading and writing only the
/// matrices the pointers and strides describe, as `Float::gemm_raw` does; the shapes fit: `a`
/// is `[m, k]`, `b` `[k, n]` and `c` `[m, n]`.
unsafe fn strided_product<F>(
    alpha: F,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    beta: F,
    mut c: ArrayViewMut2<'_, F>,
    product: RawProduct<F>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let (rsa, csa) = (a.strides()[0], a.strides()[1]);
    let (rsb, csb) = (b.strides()[0], b.strides()[1]);
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the views describe m x k, k x n and m x n matrices (the shapes fit, this
    // function's contract) with these element strides, so `product`'s reads and writes stay
    // inside them; C is uniquely borrowed, so it cannot alias A or B.
    unsafe {
        product(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        )
    };
}

/// `c = alpha a b + beta c` by matrixmultiply's sgemm on the calling thread, for any strides:
/// the reference neurite's own f32 kernels ([`sgemm`](crate::sgemm())) are tested and
/// benchmarked against.
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let mut c = array![[1.0f32, 1.0], [1.0, 1.0]];
/// neurite_tensor::sgemm_matrixmultiply(1.0, a.view(), a.t(), 1.0, c.view_mut()).unwrap();
/// assert_eq!(c, array![[6.0, 12.0], [12.0, 26.0]]);
/// ```
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when `a b` does not fit `c`.
pub fn sgemm_matrixmultiply(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) -> Result<()> {
    check_shapes(&a, &b, &c)?;
    // SAFETY: matrixmultiply's sgemm takes any strides and touches only the matrices they
    // describe; `check_shapes` just checked that the shapes fit.
    unsafe { strided_product(alpha, a, b, beta, c, matrixmultiply::sgemm) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_depends_only_on_sizes() {
        assert_eq!(split_plan(8, 8, 8), None);
        assert_eq!(split_plan(1024, 1024, 1024), Some((Axis(0), 64)));
        assert_eq!(split_plan(32, 128, 784), Some((Axis(1), 32)));
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let a = ndarray::Array2::<f64>::zeros((2, 3));
        let b = ndarray::Array2::<f64>::zeros((2, 3));
        let mut c = ndarray::Array2::<f64>::zeros((2, 3));
        let err = gemm(
            1.0,
            a.view(),
            Transpose::No,
            b.view(),
            Transpose::No,
            0.0,
            c.view_mut(),
        );
        assert!(matches!(err, Err(TensorError::ShapeMismatch { .. })));
    }
}
