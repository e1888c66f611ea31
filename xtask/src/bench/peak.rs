//! This machine's f32 peak, estimated from its clock and measured with an FMA loop.
//!
//! Estimate: cores x GHz x FMA units x SIMD lanes x 2 (an FMA is two flops). The clock is
//! measured with a chain of dependent integer adds (one per cycle on every x86-64 core); FMA units
//! and lanes are those of the AVX2 kernels matrixmultiply uses: 2 units x 8 f32 lanes (256-bit).
//! On AMD Zen 4 an AVX-512 FMA is split over the same two 256-bit pipes, so this is the core's
//! true f32 peak; on CPUs with two full 512-bit FMA units AVX2 code reaches half of theirs.
//! The measured figure runs independent AVX2 FMAs on every thread, which is what the estimate
//! claims the hardware can do.

use std::time::Instant;

/// FMA pipes per core assumed by the estimate.
pub const FMA_UNITS: f64 = 2.0;
/// f32 lanes per 256-bit register.
pub const SIMD_LANES: f64 = 8.0;

/// Peak figures for one thread count.
#[derive(Clone, Copy, Debug)]
pub struct Peak {
    /// Measured core clock in GHz.
    pub ghz: f64,
    /// cores x GHz x FMA units x lanes x 2, in GFLOP/s.
    pub estimated_gflops: f64,
    /// What the FMA loop reached on this many threads, in GFLOP/s.
    pub measured_gflops: f64,
}

/// Measures the clock and the FMA throughput with `threads` threads.
pub fn measure(threads: usize) -> anyhow::Result<Peak> {
    let ghz = measure_ghz();
    let estimated_gflops = threads as f64 * ghz * FMA_UNITS * SIMD_LANES * 2.0;
    let measured_gflops = super::with_threads(threads, || {
        use rayon::prelude::*;
        let per_thread: Vec<f64> = (0..threads).into_par_iter().map(|_| fma_gflops()).collect();
        per_thread.iter().sum::<f64>()
    })?;
    Ok(Peak {
        ghz,
        estimated_gflops,
        measured_gflops,
    })
}

/// The clock in GHz, from a chain of dependent adds (best of several runs).
fn measure_ghz() -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        const ITERS: u64 = 20_000_000;
        let mut best: f64 = 0.0;
        for _ in 0..5 {
            let start = Instant::now();
            let mut x: u64 = 0;
            let mut n = ITERS;
            // SAFETY: pure register arithmetic; no memory is touched.
            unsafe {
                std::arch::asm!(
                    "2:",
                    "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                    "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                    "dec {n}",
                    "jnz 2b",
                    x = inout(reg) x,
                    n = inout(reg) n,
                    options(nomem, nostack),
                );
            }
            std::hint::black_box((x, n));
            // Eight dependent adds per iteration: eight cycles.
            best = best.max(8.0 * ITERS as f64 / start.elapsed().as_secs_f64() / 1e9);
        }
        best
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        cpuinfo_ghz().unwrap_or(f64::NAN)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuinfo_ghz() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let mhz = text
        .lines()
        .find(|l| l.starts_with("cpu MHz"))?
        .split(':')
        .nth(1)?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some(mhz / 1000.0)
}

/// GFLOP/s of independent AVX2 FMAs on the calling thread (NaN where AVX2+FMA are missing).
fn fma_gflops() -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        const ITERS: usize = 10_000_000;
        let mut best: f64 = 0.0;
        for _ in 0..3 {
            let start = Instant::now();
            // SAFETY: the features were detected just above.
            let sink = unsafe { fma_loop(ITERS) };
            std::hint::black_box(sink);
            // 12 registers x 8 lanes x 2 flops per iteration.
            best = best.max((ITERS * 12 * 8 * 2) as f64 / start.elapsed().as_secs_f64() / 1e9);
        }
        return best;
    }
    f64::NAN
}

/// Twelve independent FMA chains: enough to cover 2 pipes x 4-5 cycles of latency.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_loop(iters: usize) -> f32 {
    use std::arch::x86_64::*;
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iters {
        for r in &mut acc {
            *r = _mm256_fmadd_ps(*r, a, b);
        }
    }
    let mut total = _mm256_setzero_ps();
    for r in acc {
        total = _mm256_add_ps(total, r);
    }
    let mut out = [0.0f32; 8];
    // SAFETY: `out` holds exactly 8 f32 values.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), total) };
    out.iter().sum()
}
