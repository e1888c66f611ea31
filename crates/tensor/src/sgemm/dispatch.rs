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
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
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
    pub(crate) fn run(self, p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>) {
        BUFFERS.with_borrow_mut(|bufs| match self {
            // SAFETY: `sgemm_with` only calls a kernel the CPU supports.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { run_avx512(p, rows, cols, bufs) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { run_avx2(p, rows, cols, bufs) },
            // SAFETY: plain scalar code.
            _ => unsafe { run::<Scalar, 4, 4, 4>(p, rows, cols, 256, bufs) },
        })
    }
}

/// K blocks of 192 keep the 32-column B micro-panel (24 KiB) in a 32 KiB L1.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>, bufs: &mut Buffers) {
    unsafe { run::<super::simd::Avx512, 8, 2, 32>(p, rows, cols, 192, bufs) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>, bufs: &mut Buffers) {
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
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32) {
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
