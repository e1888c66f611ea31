//! Choosing the micro-kernel for this CPU, once, and entering it with its instruction set on.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;

use super::kernel::{Buffers, Problem, run};
use super::simd::Simd;

/// An sgemm micro-kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// 8 x 32 register tile of AVX-512F (16-lane) FMAs.
    Avx512,
    /// 6 x 16 register tile of AVX2 + FMA3 (8-lane) FMAs.
    Avx2,
    /// 4 x 4 tile of plain scalar code: any CPU.
    Portable,
}

/// Set to `avx512`, `avx2` or `portable` to force a kernel (for comparing them on one machine).
pub const KERNEL_ENV: &str = "NEURITE_SGEMM";

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

impl Kernel {
    /// The fastest kernel this CPU supports (or the one `NEURITE_SGEMM` names, when supported),
    /// decided once per process.
    pub fn best() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            let forced = std::env::var(KERNEL_ENV)
                .ok()
                .and_then(|v| match v.as_str() {
                    "avx512" => Some(Kernel::Avx512),
                    "avx2" => Some(Kernel::Avx2),
                    "portable" => Some(Kernel::Portable),
                    _ => None,
                });
            forced
                .filter(|k| k.is_supported())
                .or_else(|| Kernel::all().into_iter().find(|k| k.is_supported()))
                .unwrap_or(Kernel::Portable)
        })
    }

    /// Every kernel, fastest first.
    pub fn all() -> [Kernel; 3] {
        [Kernel::Avx512, Kernel::Avx2, Kernel::Portable]
    }

    /// Whether this CPU can run the kernel.
    ///
    /// The unsafe code of every kernel relies on this answer: an instruction set is entered
    /// only for a kernel it accepts.
    pub fn is_supported(self) -> bool {
        match self {
            // AVX2 and FMA too: the AVX-512 kernels also run 256-bit code (the packing
            // transposes), and rustc enables both with `avx512f`. Every AVX-512F CPU has them;
            // asking keeps that from being an assumption.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => false,
            Kernel::Portable => true,
        }
    }

    /// Register tile `(MR, NR)`.
    pub fn tile(self) -> (usize, usize) {
        match self {
            Kernel::Avx512 => (8, 32),
            Kernel::Avx2 => (6, 16),
            Kernel::Portable => (4, 4),
        }
    }

    /// Runs rows and columns of `p` on this thread.
    ///
    /// Safe to call, though it dereferences `p`'s raw pointers: the callers build `p` from a
    /// checked `sgemm_with` (or the contract of `gemm_strided`) and hand each task a disjoint
    /// range of C, and `self` is a kernel `is_supported` accepted.
    pub(crate) fn run(self, p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>) {
        BUFFERS.with_borrow_mut(|bufs| match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: every caller holds a kernel `is_supported` accepted (`sgemm_with` checks
            // it, `gemm_strided` takes `Kernel::best`), so the CPU has AVX-512F; the caller
            // vouches for `p` and for these rows and columns being its own (see `Kernel::run`).
            Kernel::Avx512 => unsafe { run_avx512(p, rows, cols, bufs) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as for AVX-512: the CPU has AVX2 and FMA.
            Kernel::Avx2 => unsafe { run_avx2(p, rows, cols, bufs) },
            // SAFETY: `Scalar` needs no instruction set; `p` as for the others.
            _ => unsafe { run::<Scalar, 4, 4, 4>(p, rows, cols, 256, bufs) },
        })
    }
}

/// K blocks of 192 keep the 32-column B micro-panel (24 KiB) in a 32 KiB L1.
///
/// # Safety
/// The CPU supports AVX-512F, AVX2 and FMA ([`Kernel::Avx512`] is supported), and `p`, `rows`
/// and `cols` meet the conditions of [`run`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>, bufs: &mut Buffers) {
    // SAFETY: this function is only entered on such a CPU (its own contract), and the tile
    // 8 x (2 x 16) = 8 x 32 is `Kernel::Avx512.tile()`, within `run`'s `MAX_TILE`.
    unsafe { run::<super::simd::Avx512, 8, 2, 32>(p, rows, cols, 192, bufs) }
}

/// # Safety
/// The CPU supports AVX2 and FMA ([`Kernel::Avx2`] is supported), and `p`, `rows` and `cols`
/// meet the conditions of [`run`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>, bufs: &mut Buffers) {
    // SAFETY: as in `run_avx512`, with the 6 x 16 tile of `Kernel::Avx2`.
    unsafe { run::<super::simd::Avx2, 6, 2, 16>(p, rows, cols, 256, bufs) }
}

/// One f32 lane: the fallback for CPUs without AVX2.
pub(crate) struct Scalar;

impl Simd for Scalar {
    type V = f32;
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn zero() -> f32 {
        0.0
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> f32 {
        // SAFETY: the caller vouches for `LANES` = 1 read at `p`.
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32) {
        // SAFETY: the caller vouches for `LANES` = 1 write at `p`.
        unsafe { *p = v }
    }
    #[inline(always)]
    unsafe fn fma(a: f32, b: f32, c: f32) -> f32 {
        // Two roundings: a fused multiply-add is a slow library call without FMA hardware.
        a * b + c
    }
    #[inline(always)]
    unsafe fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    unsafe fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    unsafe fn mul(a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    unsafe fn relu(a: f32) -> f32 {
        if a > 0.0 { a } else { 0.0 }
    }
    #[inline(always)]
    unsafe fn max(a: f32, b: f32) -> f32 {
        if a > b { a } else { b }
    }
    #[inline(always)]
    unsafe fn select_eq(a: f32, b: f32, yes: f32, no: f32) -> f32 {
        if a == b { yes } else { no }
    }
}
