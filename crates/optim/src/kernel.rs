//! Elementwise update loops over contiguous slices, split into fixed chunks across rayon.
//!
//! Chunk boundaries depend only on the length, never on the thread count, and the reduction in
//! [`sum_squares`] combines chunk sums in a fixed tree, so results are bit-identical whatever
//! the number of threads.

use neurite_tensor::Float;

/// Elements per chunk handed to one rayon task.
const CHUNK: usize = 1 << 14;

/// Below this length the whole loop runs on the calling thread: waking a rayon worker costs
/// more than it saves. (At 64 k, Adam on the MLP's 100 k weights woke one every step, which
/// made its epoch slower on two threads than on one.)
const PARALLEL_MIN: usize = 1 << 18;

/// Calls `f(w[i], g[i], [s0[i], s1[i], ...])` for every `i`. All slices must have `w`'s length
/// (the caller guarantees it; the loop would otherwise stop at the shortest one).
pub(crate) fn for_each<F, const N: usize, K>(w: &mut [F], g: &[F], slots: [&mut [F]; N], f: &K)
where
    F: Float,
    K: Fn(&mut F, F, [&mut F; N]) + Sync,
{
    let parallel = w.len() >= PARALLEL_MIN;
    split(w, g, slots, f, parallel);
}

fn split<F, const N: usize, K>(w: &mut [F], g: &[F], mut slots: [&mut [F]; N], f: &K, par: bool)
where
    F: Float,
    K: Fn(&mut F, F, [&mut F; N]) + Sync,
{
    let n = w.len();
    if n <= CHUNK || !par {
        run(w, g, slots, f);
        return;
    }
    let mid = n.div_ceil(CHUNK) / 2 * CHUNK;
    let (w_lo, w_hi) = w.split_at_mut(mid);
    let (g_lo, g_hi) = g.split_at(mid.min(g.len()));
    let lo = slots.each_mut().map(|s| {
        let whole = std::mem::take(s);
        let at = mid.min(whole.len());
        let (a, b) = whole.split_at_mut(at);
        *s = b;
        a
    });
    rayon::join(
        || split(w_lo, g_lo, lo, f, par),
        || split(w_hi, g_hi, slots, f, par),
    );
}

/// Runs the loop with 256-bit vectors where the CPU has AVX2 (twice the lanes of the x86-64
/// baseline). Only instruction selection changes: IEEE operations round the same way at any
/// width and Rust never fuses `a * b + c` on its own, so results are bit-identical either way.
fn run<F, const N: usize, K>(w: &mut [F], g: &[F], slots: [&mut [F]; N], f: &K)
where
    F: Float,
    K: Fn(&mut F, F, [&mut F; N]),
{
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected just above.
        unsafe { run_avx2(w, g, slots, f) };
        return;
    }
    run_portable(w, g, slots, f);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<F, const N: usize, K>(w: &mut [F], g: &[F], slots: [&mut [F]; N], f: &K)
where
    F: Float,
    K: Fn(&mut F, F, [&mut F; N]),
{
    run_portable(w, g, slots, f);
}

#[inline(always)]
fn run_portable<F, const N: usize, K>(w: &mut [F], g: &[F], mut slots: [&mut [F]; N], f: &K)
where
    F: Float,
    K: Fn(&mut F, F, [&mut F; N]),
{
    // Re-slicing everything to one length lets the compiler drop bounds checks and vectorize.
    let n = slots
        .iter()
        .fold(w.len().min(g.len()), |n, s| n.min(s.len()));
    let w = &mut w[..n];
    let g = &g[..n];
    for s in slots.iter_mut() {
        *s = &mut std::mem::take(s)[..n];
    }
    for i in 0..n {
        f(&mut w[i], g[i], slots.each_mut().map(|s| &mut s[i]));
    }
}

/// The sum of squares of `g[i] + l2 * w[i]`, accumulated in f64 over fixed chunks.
pub(crate) fn sum_squares<F: Float>(g: &[F], w: &[F], l2: f64) -> f64 {
    let parallel = g.len() >= PARALLEL_MIN;
    sum_split(g, w, l2, parallel)
}

fn sum_split<F: Float>(g: &[F], w: &[F], l2: f64, par: bool) -> f64 {
    let n = g.len();
    if n <= CHUNK {
        return sum_chunk(g, w, l2);
    }
    // The same tree with or without threads, so the rounding never depends on `par`.
    let mid = n.div_ceil(CHUNK) / 2 * CHUNK;
    let (g_lo, g_hi) = g.split_at(mid);
    let (w_lo, w_hi) = w.split_at(mid.min(w.len()));
    let (a, b) = if par {
        rayon::join(
            || sum_split(g_lo, w_lo, l2, par),
            || sum_split(g_hi, w_hi, l2, par),
        )
    } else {
        (
            sum_split(g_lo, w_lo, l2, par),
            sum_split(g_hi, w_hi, l2, par),
        )
    };
    a + b
}

fn sum_chunk<F: Float>(g: &[F], w: &[F], l2: f64) -> f64 {
    // Eight independent accumulators: a fixed order the compiler can vectorize.
    let mut acc = [0.0f64; 8];
    if l2 == 0.0 {
        let mut it = g.chunks_exact(8);
        for c in &mut it {
            for (a, x) in acc.iter_mut().zip(c) {
                let x = x.as_f64();
                *a += x * x;
            }
        }
        for (a, x) in acc.iter_mut().zip(it.remainder()) {
            let x = x.as_f64();
            *a += x * x;
        }
    } else {
        for (i, (x, v)) in g.iter().zip(w).enumerate() {
            let x = x.as_f64() + l2 * v.as_f64();
            acc[i % 8] += x * x;
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_each_visits_every_element_once_across_chunks() {
        for n in [0, 1, 7, CHUNK, CHUNK + 1, PARALLEL_MIN + 3 * CHUNK + 5] {
            let mut w: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let g: Vec<f64> = (0..n).map(|i| 2.0 * i as f64).collect();
            let mut s: Vec<f64> = vec![1.0; n];
            for_each(
                &mut w,
                &g,
                [&mut s[..]],
                &|w: &mut f64, g, [s]: [&mut f64; 1]| {
                    *s += 1.0;
                    *w += g;
                },
            );
            assert!(w.iter().enumerate().all(|(i, &x)| x == 3.0 * i as f64));
            assert!(s.iter().all(|&x| x == 2.0));
        }
    }

    #[test]
    fn sum_squares_is_exact_on_small_integers_and_independent_of_threads() {
        let n = PARALLEL_MIN + 12345;
        let g: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
        let w: Vec<f32> = (0..n).map(|i| (i % 3) as f32).collect();
        let expected: f64 = g.iter().map(|&x| (x as f64) * (x as f64)).sum();
        assert_eq!(sum_squares(&g, &w, 0.0), expected);
        let with_l2: f64 = g
            .iter()
            .zip(&w)
            .map(|(&x, &v)| (x as f64 + 2.0 * v as f64).powi(2))
            .sum();
        assert_eq!(sum_squares(&g, &w, 2.0), with_l2);
        // Non-integer data: the tree is fixed, so parallel and sequential agree bit for bit.
        let g: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.37).sin()).collect();
        assert_eq!(
            sum_squares(&g, &w, 0.0).to_bits(),
            sum_split(&g, &w, 0.0, false).to_bits()
        );
    }
}
