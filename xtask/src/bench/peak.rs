//! This machine's f32 peak, measured with a loop of independent FMAs of the widest width the CPU
//! has (AVX-512 where present, else AVX2).
//!
//! No clock-based estimate: a dependent-add clock loop can be folded by the CPU (one reported
//! 22 GHz), and on AMD Zen 4 AVX-512 runs on 256-bit pipes, so lanes x units x GHz overstates it.
//! The loop measures what the FMA units actually deliver, which is the ceiling any GEMM can reach.

use std::time::Instant;

/// Peak figures for one thread count.
#[derive(Clone, Copy, Debug)]
pub struct Peak {
    /// The instruction set of the FMA loop ("avx512", "avx2" or "none").
    pub isa: &'static str,
    /// What the FMA loop reached on this many threads, in GFLOP/s.
    pub measured_gflops: f64,
}

/// Measures the FMA throughput with `threads` threads.
pub fn measure(threads: usize) -> anyhow::Result<Peak> {
    let measured_gflops = super::with_threads(threads, || {
        use rayon::prelude::*;
        let per_thread: Vec<f64> = (0..threads).into_par_iter().map(|_| fma_gflops()).collect();
        per_thread.iter().sum::<f64>()
    })?;
    Ok(Peak {
        isa: isa(),
        measured_gflops,
    })
}

fn isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "avx512";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "avx2";
        }
    }
    "none"
}

/// GFLOP/s of independent FMAs on the calling thread, best of three runs (NaN without FMA).
fn fma_gflops() -> f64 {
    const ITERS: usize = 10_000_000;
    let mut best: f64 = f64::NAN;
    for _ in 0..3 {
        let start = Instant::now();
        let flops = match isa() {
            // SAFETY: the feature was detected by `isa`.
            #[cfg(target_arch = "x86_64")]
            "avx512" => unsafe { fma_loop_avx512(ITERS) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            "avx2" => unsafe { fma_loop_avx2(ITERS) },
            _ => return f64::NAN,
        };
        let gflops = flops / start.elapsed().as_secs_f64() / 1e9;
        best = if best.is_nan() {
            gflops
        } else {
            best.max(gflops)
        };
    }
    best
}

/// Sixteen independent FMA chains: more than 2 pipes x 4-5 cycles of latency on any core.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fma_loop_avx512(iters: usize) -> f64 {
    use std::arch::x86_64::*;
    let a = _mm512_set1_ps(0.999_999);
    let b = _mm512_set1_ps(1e-7);
    let mut acc = [_mm512_set1_ps(1.0); 16];
    for _ in 0..iters {
        for r in &mut acc {
            *r = _mm512_fmadd_ps(*r, a, b);
        }
    }
    let total = acc
        .iter()
        .fold(_mm512_setzero_ps(), |t, &r| _mm512_add_ps(t, r));
    std::hint::black_box(_mm512_reduce_add_ps(total));
    (iters * 16 * 16 * 2) as f64
}

/// Twelve independent AVX2 FMA chains.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_loop_avx2(iters: usize) -> f64 {
    use std::arch::x86_64::*;
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iters {
        for r in &mut acc {
            *r = _mm256_fmadd_ps(*r, a, b);
        }
    }
    let total = acc
        .iter()
        .fold(_mm256_setzero_ps(), |t, &r| _mm256_add_ps(t, r));
    let mut out = [0.0f32; 8];
    // SAFETY: `out` holds exactly 8 f32 values.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), total) };
    std::hint::black_box(out);
    (iters * 12 * 8 * 2) as f64
}
