//! Which instruction set runs a Winograd pass: the pass is generic over the vector type and the
//! sgemm register tile, and [`on_kernel`] turns the kernel chosen at forward time into both,
//! with that instruction set enabled.

use crate::sgemm::{Kernel, Scalar, Simd};

/// A pass over one instruction set `S`, whose sgemm register tile is `MR x (NV * S::LANES)`.
///
/// The passes are built only by [`Winograd`](super::Winograd)'s methods, from buffers
/// `lay_out` sized for their geometry `g` and arguments checked against it; their `run`
/// relies on that.
pub(super) trait KernelPass {
    fn kernel(&self) -> Kernel;

    /// # Safety
    /// The CPU runs `S`, the instruction set of `self.kernel()`, and `MR x (NV * S::LANES)` is
    /// that kernel's register tile. The pass's slices are the ones `Winograd` cut for `g`:
    /// each chunk's part of the buffers `lay_out` sized, and inputs and outputs whose shapes
    /// were checked against `g`.
    unsafe fn run<S: Simd, const MR: usize, const NV: usize>(self);
}

/// Runs `pass` with its kernel's instruction set on.
pub(super) fn on_kernel<P: KernelPass>(pass: P) {
    match pass.kernel() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `run_forward` builds the geometry with a kernel `is_supported` accepted (the
        // one asked for, if supported, else `Kernel::best`), and backward reuses that forward's
        // geometry, so the CPU has AVX-512F; 8 x (2 x 16) is `Kernel::Avx512`'s tile, and the
        // pass was built by `Winograd` (see `KernelPass`).
        Kernel::Avx512 => unsafe { on_avx512(pass) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as for AVX-512, with AVX2 and FMA and the 6 x 16 tile of `Kernel::Avx2`.
        Kernel::Avx2 => unsafe { on_avx2(pass) },
        // SAFETY: `Scalar` needs no instruction set, and 4 x 4 is `Kernel::Portable`'s tile.
        _ => unsafe { pass.run::<Scalar, 4, 4>() },
    }
}

/// # Safety
/// The CPU supports [`Kernel::Avx512`]; `pass` as in [`KernelPass::run`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn on_avx512<P: KernelPass>(pass: P) {
    // SAFETY: this function's contract, for `Avx512` and its 8 x 32 tile.
    unsafe { pass.run::<crate::sgemm::Avx512, 8, 2>() }
}

/// # Safety
/// The CPU supports [`Kernel::Avx2`]; `pass` as in [`KernelPass::run`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn on_avx2<P: KernelPass>(pass: P) {
    // SAFETY: this function's contract, for `Avx2` and its 6 x 16 tile.
    unsafe { pass.run::<crate::sgemm::Avx2, 6, 2>() }
}
