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
/// Implementations call intrinsics of one instruction set, so every method may only run on a
/// CPU that has it: [`Kernel::is_supported`](super::Kernel::is_supported) decides that, and the
/// `#[target_feature]` entry points (`run_avx512` in `dispatch.rs`, `forward_avx512` in
/// `conv_pool`, `on_avx512` in `winograd`, and their AVX2 twins) are only called for a kernel
/// it accepted. The methods that take pointers state what the pointers must be valid for.
pub(crate) trait Simd {
    /// The register type.
    type V: Copy;
    /// f32 lanes per register: at most 16, since the default methods and the kernels spill a
    /// register into a `[f32; 16]` (`store_full_tile` asserts it at compile time).
    const LANES: usize;
    /// All lanes zero.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn zero() -> Self::V;
    /// Every lane `x`.
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn splat(x: f32) -> Self::V;
    /// `LANES` values from `p` (any alignment).
    ///
    /// # Safety
    /// As [`Simd::zero`], and `p` is valid for `LANES` f32 reads.
    unsafe fn load(p: *const f32) -> Self::V;
    /// Stores the lanes at `p` (any alignment).
    ///
    /// # Safety
    /// As [`Simd::zero`], and `p` is valid for `LANES` f32 writes.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `a * b + c`, rounded once.
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`.
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// ReLU lane by lane: `a > 0 ? a : 0` (NaN gives 0, as `Activation::Relu`).
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn relu(a: Self::V) -> Self::V;
    /// The larger of `a` and `b` lane by lane (`b` when either is NaN or both are zero).
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// Lane by lane `a == b ? yes : no`.
    ///
    /// # Safety
    /// As [`Simd::zero`].
    unsafe fn select_eq(a: Self::V, b: Self::V, yes: Self::V, no: Self::V) -> Self::V;
    /// The first `n` lanes (`n <= LANES`) from `p`, the rest zero; reads nothing past them.
    ///
    /// # Safety
    /// As [`Simd::zero`], `n <= LANES`, and `p` is valid for `n` f32 reads.
    #[inline(always)]
    unsafe fn load_first(p: *const f32, n: usize) -> Self::V {
        let mut lanes = [0.0f32; 16];
        for (l, v) in lanes.iter_mut().enumerate().take(n) {
            // SAFETY: `l < n`, and the caller vouches for `n` reads from `p`.
            *v = unsafe { *p.add(l) };
        }
        // SAFETY: `lanes` holds 16 floats, at least `LANES` of every implementation.
        unsafe { Self::load(lanes.as_ptr()) }
    }
    /// Stores the first `n` lanes (`n <= LANES`) at `p`; writes nothing past them.
    ///
    /// # Safety
    /// As [`Simd::zero`], `n <= LANES`, and `p` is valid for `n` f32 writes.
    #[inline(always)]
    unsafe fn store_first(p: *mut f32, v: Self::V, n: usize) {
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` holds 16 floats, at least `LANES` of every implementation.
        unsafe { Self::store(lanes.as_mut_ptr(), v) };
        for (l, v) in lanes.iter().enumerate().take(n) {
            // SAFETY: `l < n`, and the caller vouches for `n` writes at `p`.
            unsafe { *p.add(l) = *v };
        }
    }
    /// `old` with lanes `a..b` (`a < b <= LANES`) replaced by `p[a..b]`: lane `l` comes from
    /// `p + l`, and nothing outside lanes `a..b` is read (`p` itself may lie before the data).
    ///
    /// # Safety
    /// As [`Simd::zero`], `a < b <= LANES`, and `p + a .. p + b` is valid for reads. `p` itself
    /// need not point into the allocation.
    #[inline(always)]
    unsafe fn load_run(old: Self::V, p: *const f32, a: usize, b: usize) -> Self::V {
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` holds 16 floats, at least `LANES` of every implementation.
        unsafe { Self::store(lanes.as_mut_ptr(), old) };
        for (l, v) in lanes.iter_mut().enumerate().take(b).skip(a) {
            // SAFETY: `a <= l < b`, the range the caller vouches for. `wrapping_add`, not
            // `add`: `p` may lie before the allocation, which `add` would make undefined.
            *v = unsafe { *p.wrapping_add(l) };
        }
        // SAFETY: as the store above.
        unsafe { Self::load(lanes.as_ptr()) }
    }
    /// Stores lanes `a..b` of `v` at `p + a .. p + b`; writes nothing else.
    ///
    /// # Safety
    /// As [`Simd::load_run`], with `p + a .. p + b` valid for writes.
    #[inline(always)]
    unsafe fn store_run(p: *mut f32, v: Self::V, a: usize, b: usize) {
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` holds 16 floats, at least `LANES` of every implementation.
        unsafe { Self::store(lanes.as_mut_ptr(), v) };
        for (l, v) in lanes.iter().enumerate().take(b).skip(a) {
            // SAFETY: `a <= l < b`, the range the caller vouches for (`wrapping_add` as in
            // `load_run`).
            unsafe { *p.wrapping_add(l) = *v };
        }
    }
    /// Transposes an 8 x 8 block: `dst[k * dst_stride + i] = src[i][k]` for `i, k < 8`.
    ///
    /// Packing a row-major A or a column-major B turns rows into columns; one element at a
    /// time that is a scalar load and store each, about as long as the product itself when M
    /// is small (a dense layer's batch), so the vector sets shuffle whole blocks.
    ///
    /// # Safety
    /// As [`Simd::zero`]; every `src[i]` is valid for 8 f32 reads, and `dst + k * dst_stride`
    /// for 8 f32 writes for each `k < 8`. The block read and the block written do not overlap.
    #[inline(always)]
    unsafe fn transpose8(src: [*const f32; 8], dst: *mut f32, dst_stride: usize) {
        for (i, row) in src.iter().enumerate() {
            for k in 0..8 {
                // SAFETY: `i, k < 8`: element `k` of row `i` and element `i` of output row
                // `k`, inside the ranges the caller vouches for.
                unsafe { *dst.add(k * dst_stride + i) = *row.add(k) };
            }
        }
    }
}

/// The 8 x 8 transpose in 256-bit AVX registers: three rounds of shuffles (pairs of rows,
/// pairs of pairs, then the 128-bit halves), 24 shuffles for 64 values.
///
/// # Safety
/// The CPU supports AVX; `src[i]` is valid for 8 reads and `dst + k * dst_stride` for 8 writes
/// for each `k < 8`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn transpose8_avx(src: [*const f32; 8], dst: *mut f32, dst_stride: usize) {
    // No closures here: a closure is compiled without the caller's target features, so an
    // intrinsic inside it would become a call.
    // SAFETY: AVX is the caller's to guarantee. The eight VMOVUPS loads read `src[0..8]`, 8
    // floats each, and the eight stores write 8 floats at `dst + k * dst_stride` for `k < 8`:
    // exactly the ranges the caller vouches for; unaligned moves, so no alignment is needed.
    unsafe {
        let r = [
            _mm256_loadu_ps(src[0]),
            _mm256_loadu_ps(src[1]),
            _mm256_loadu_ps(src[2]),
            _mm256_loadu_ps(src[3]),
            _mm256_loadu_ps(src[4]),
            _mm256_loadu_ps(src[5]),
            _mm256_loadu_ps(src[6]),
            _mm256_loadu_ps(src[7]),
        ];
        // Rows 2j and 2j + 1 interleaved: k = 0, 1 (and 4, 5) in t[2j], k = 2, 3 (6, 7) in
        // t[2j + 1].
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        // Four rows for one k in each 128-bit half: k = 0..4 in the low halves, 4..8 in the high.
        let s = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for k in 0..4 {
            let low = _mm256_permute2f128_ps::<0x20>(s[k], s[k + 4]);
            let high = _mm256_permute2f128_ps::<0x31>(s[k], s[k + 4]);
            _mm256_storeu_ps(dst.add(k * dst_stride), low);
            _mm256_storeu_ps(dst.add((k + 4) * dst_stride), high);
        }
    }
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
        // SAFETY: AVX, which the trait's contract guarantees (AVX2 implies it); no memory.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        // SAFETY: AVX as in `zero`; the caller vouches for 8 reads at `p`, and VMOVUPS takes
        // any alignment.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        // SAFETY: AVX as in `zero`; the caller vouches for 8 writes at `p`, any alignment.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: FMA3, which `Kernel::Avx2` requires next to AVX2 (`is_supported` checks
        // both, and the entry points enable both); no memory.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn relu(a: __m256) -> __m256 {
        // MAXPS returns its second operand when either is NaN.
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_max_ps(a, _mm256_setzero_ps()) }
    }
    #[inline(always)]
    unsafe fn max(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn select_eq(a: __m256, b: __m256, yes: __m256, no: __m256) -> __m256 {
        // SAFETY: AVX, as in `zero`; no memory.
        unsafe { _mm256_blendv_ps(no, yes, _mm256_cmp_ps::<_CMP_EQ_OQ>(a, b)) }
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, n: usize) -> __m256 {
        // VMASKMOVPS neither reads masked-off lanes nor faults on them.
        // SAFETY: AVX2 as in `zero`. The mask enables lanes `0..n` only, the `n` floats the
        // caller vouches for at `p`.
        unsafe { _mm256_maskload_ps(p, first_lanes_avx(n)) }
    }
    #[inline(always)]
    unsafe fn store_first(p: *mut f32, v: __m256, n: usize) {
        // SAFETY: AVX2 as in `zero`. Lanes `0..n` only are written, the `n` floats the caller
        // vouches for at `p`; masked-off lanes are neither written nor able to fault.
        unsafe { _mm256_maskstore_ps(p, first_lanes_avx(n), v) }
    }
    #[inline(always)]
    unsafe fn load_run(old: __m256, p: *const f32, a: usize, b: usize) -> __m256 {
        // SAFETY: AVX2 as in `zero`. The mask enables lanes `a..b` only, so the load touches
        // `p + a .. p + b`, the floats the caller vouches for; the other lanes are not
        // accessed, which is why `p` itself may lie outside the allocation.
        unsafe {
            let mask = run_lanes_avx(a, b);
            _mm256_blendv_ps(old, _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask))
        }
    }
    #[inline(always)]
    unsafe fn store_run(p: *mut f32, v: __m256, a: usize, b: usize) {
        // SAFETY: as `load_run`: only lanes `a..b` are stored, at `p + a .. p + b`.
        unsafe { _mm256_maskstore_ps(p, run_lanes_avx(a, b), v) }
    }
    #[inline(always)]
    unsafe fn transpose8(src: [*const f32; 8], dst: *mut f32, dst_stride: usize) {
        // SAFETY: AVX as in `zero`; the pointer conditions are this method's own.
        unsafe { transpose8_avx(src, dst, dst_stride) }
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
        // SAFETY: AVX-512F, which the trait's contract guarantees; no memory.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        // SAFETY: AVX-512F as in `zero`; the caller vouches for 16 reads at `p`, and VMOVUPS
        // takes any alignment.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        // SAFETY: AVX-512F as in `zero`; the caller vouches for 16 writes at `p`, any
        // alignment.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: AVX-512F (its FMA is part of the base set), as in `zero`; no memory.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn relu(a: __m512) -> __m512 {
        // MAXPS returns its second operand when either is NaN.
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_max_ps(a, _mm512_setzero_ps()) }
    }
    #[inline(always)]
    unsafe fn max(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn select_eq(a: __m512, b: __m512, yes: __m512, no: __m512) -> __m512 {
        // SAFETY: AVX-512F, as in `zero`; no memory.
        unsafe { _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_EQ_OQ>(a, b), no, yes) }
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, n: usize) -> __m512 {
        // Masked-off lanes are neither read nor able to fault.
        // SAFETY: AVX-512F as in `zero`. The mask enables lanes `0..n` only, the `n` floats
        // the caller vouches for at `p`.
        unsafe { _mm512_maskz_loadu_ps(first_lanes(n), p) }
    }
    #[inline(always)]
    unsafe fn store_first(p: *mut f32, v: __m512, n: usize) {
        // SAFETY: AVX-512F as in `zero`. Lanes `0..n` only are written, the `n` floats the
        // caller vouches for at `p`.
        unsafe { _mm512_mask_storeu_ps(p, first_lanes(n), v) }
    }
    #[inline(always)]
    unsafe fn load_run(old: __m512, p: *const f32, a: usize, b: usize) -> __m512 {
        // SAFETY: AVX-512F as in `zero`. The mask enables lanes `a..b` only, so the load
        // touches `p + a .. p + b`, the floats the caller vouches for; the other lanes are
        // not accessed, which is why `p` itself may lie outside the allocation.
        unsafe { _mm512_mask_loadu_ps(old, first_lanes(b) & !first_lanes(a), p) }
    }
    #[inline(always)]
    unsafe fn store_run(p: *mut f32, v: __m512, a: usize, b: usize) {
        // SAFETY: as `load_run`: only lanes `a..b` are stored, at `p + a .. p + b`.
        unsafe { _mm512_mask_storeu_ps(p, first_lanes(b) & !first_lanes(a), v) }
    }
    #[inline(always)]
    unsafe fn transpose8(src: [*const f32; 8], dst: *mut f32, dst_stride: usize) {
        // SAFETY: the 256-bit transpose needs AVX, which every CPU `Kernel::Avx512` runs on
        // has: `is_supported` checks AVX2 and FMA next to AVX-512F, and `avx512f` enables
        // AVX2 in the entry points. The pointer conditions are this method's own.
        unsafe { transpose8_avx(src, dst, dst_stride) }
    }
}

/// The AVX-512 mask of lanes `0..n` (`n <= 16`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

/// The AVX mask vector of lanes `a..b` (`a <= b <= 8`).
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn run_lanes_avx(a: usize, b: usize) -> __m256i {
    // SAFETY: AVX2 is the caller's to guarantee; no memory.
    unsafe { _mm256_andnot_si256(first_lanes_avx(a), first_lanes_avx(b)) }
}

/// The AVX mask vector of lanes `0..n` (`n <= 8`): all ones where the lane index is below `n`.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn first_lanes_avx(n: usize) -> __m256i {
    // SAFETY: AVX2 (for the 256-bit integer compare) is the caller's to guarantee; no memory.
    unsafe {
        let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), index)
    }
}
