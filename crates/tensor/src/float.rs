//! The `Float` trait: what neurite needs from an element type, implemented for f32 and f64.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{ArrayView, ArrayViewMut, Dimension, LinalgScalar, ScalarOperand};

/// A floating-point element type of neurite tensors: `f32` for training, `f64` for gradient checks.
///
/// ```
/// use neurite_tensor::Float;
/// fn half<F: Float>(x: F) -> F { x * F::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// ```
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + Default
    + Debug
    + Display
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + 'static
{
    /// The type's name as it appears in model files ("F32" or "F64", as safetensors spells it).
    const DTYPE: &'static str;

    /// Converts from f64, rounding to nearest for f32.
    fn from_f64(x: f64) -> Self;

    /// Converts to f64 (exact for both f32 and f64).
    fn as_f64(self) -> f64;

    /// Converts a count to this type.
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }

    /// The error function, from `libm` (accurate to the last bits, needed by exact GELU).
    fn erf(self) -> Self;

    /// The same view typed as f32 when `Self` is f32, so generic layers can take the f32
    /// kernels ([`sgemm`](crate::sgemm())) without a cast; `None` for f64.
    fn as_f32<D: Dimension>(x: ArrayView<'_, Self, D>) -> Option<ArrayView<'_, f32, D>> {
        let _ = x;
        None
    }

    /// [`Float::as_f32`] for a writable view.
    fn as_f32_mut<D: Dimension>(x: ArrayViewMut<'_, Self, D>) -> Option<ArrayViewMut<'_, f32, D>> {
        let _ = x;
        None
    }

    /// `c = alpha * a * b + beta * c` for raw strided matrices: neurite's own kernels for f32
    /// ([`sgemm`](crate::sgemm())), matrixmultiply for f64.
    ///
    /// # Safety
    /// The pointers and strides must describe valid `m x k`, `k x n` and `m x n` matrices, with
    /// `c` writable and not aliasing `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

impl Float for f32 {
    const DTYPE: &'static str = "F32";

    fn from_f64(x: f64) -> Self {
        x as f32
    }

    fn as_f64(self) -> f64 {
        self as f64
    }

    fn erf(self) -> Self {
        libm::erff(self)
    }

    fn as_f32<D: Dimension>(x: ArrayView<'_, f32, D>) -> Option<ArrayView<'_, f32, D>> {
        Some(x)
    }

    fn as_f32_mut<D: Dimension>(x: ArrayViewMut<'_, f32, D>) -> Option<ArrayViewMut<'_, f32, D>> {
        Some(x)
    }

    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: `gemm_strided` asks for exactly this method's contract (valid strided
        // matrices, `c` writable and apart from `a` and `b`), which the caller keeps.
        unsafe {
            crate::sgemm::gemm_strided(
                (m, k, n),
                alpha,
                (a, rsa, csa),
                (b, rsb, csb),
                beta,
                (c, rsc, csc),
            )
        }
    }
}

impl Float for f64 {
    const DTYPE: &'static str = "F64";

    fn from_f64(x: f64) -> Self {
        x
    }

    fn as_f64(self) -> f64 {
        self
    }

    fn erf(self) -> Self {
        libm::erf(self)
    }

    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: matrixmultiply's dgemm takes any (even negative) strides and asks for what
        // this method's contract gives: pointers and strides of valid m x k, k x n and m x n
        // matrices, `c` writable and not aliasing `a` or `b`.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}
