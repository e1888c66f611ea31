//! The few vector operations the micro-kernel needs, for each instruction set it runs on.
//!
//! Every function is `#[inline(always)]` and only ever called from inside a
//! `#[target_feature]` function of the matching instruction set (see `dispatch.rs`), so the
//! intrinsics inline into straight-line vector code there.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// A SIMD register of f32 lanes and the operations the micro-kernel uses on it.
///
/// # Safety
/// Implementations call intrinsics of one instruction set: callers must have checked that the
/// CPU supports it, and pointers must be valid for `LANES` f32 reads or writes.
pub(crate) trait Simd {
    /// The register type.
    type V: Copy;
    /// f32 lanes per register.
    const LANES: usize;
    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// Every lane `x`.
    unsafe fn splat(x: f32) -> Self::V;
    /// `LANES` values from `p` (any alignment).
    unsafe fn load(p: *const f32) -> Self::V;
    /// Stores the lanes at `p` (any alignment).
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `a * b + c`, rounded once.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// ReLU lane by lane: `a > 0 ? a : 0` (NaN gives 0, as `Activation::Relu`).
    unsafe fn relu(a: Self::V) -> Self::V;
}

/// 256-bit AVX2 registers with FMA3: 8 lanes.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    type V = __m256;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn relu(a: __m256) -> __m256 {
        // MAXPS returns its second operand when either is NaN.
        unsafe { _mm256_max_ps(a, _mm256_setzero_ps()) }
    }
}

/// 512-bit AVX-512F registers: 16 lanes.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx512 {
    type V = __m512;
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn relu(a: __m512) -> __m512 {
        // MAXPS returns its second operand when either is NaN.
        unsafe { _mm512_max_ps(a, _mm512_setzero_ps()) }
    }
}
