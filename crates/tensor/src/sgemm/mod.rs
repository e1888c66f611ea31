//! neurite's own f32 GEMM: packed AVX-512 and AVX2 micro-kernels chosen at run time, operands
//! that may be the wide view of NCHW planes or the unfolded (im2col) view of a convolution's
//! input, read where they lie, and a fused epilogue (scale, beta, bias, ReLU).
//!
//! `C = act(alpha * A * B + beta * C + bias)`, split over rayon. This is the hot path of
//! convolution and dense layers: reading and writing NCHW batches in place and applying the
//! bias and ReLU while the tile is in registers saves the gather, scatter and elementwise passes
//! around a plain GEMM. matrixmultiply (see [`gemm`](crate::gemm())) stays the reference these
//! kernels are tested against and the path for f64.
//!
//! Determinism: every element of C is computed by the same sequence of FMAs whichever thread,
//! task or tile it lands in (K blocks are sized from K alone), so results are bit-identical for
//! any thread count. Different kernels (AVX-512 vs AVX2) may differ in the last bits.

mod dispatch;
mod kernel;
mod layout;
mod pack;
mod simd;

pub use dispatch::Kernel;
pub(crate) use dispatch::Scalar;
pub(crate) use kernel::micro_kernel;
pub use layout::{MatMut, MatRef};
pub(crate) use simd::Simd;
#[cfg(target_arch = "x86_64")]
pub(crate) use simd::{Avx2, Avx512};

use rayon::prelude::*;

use crate::{Result, TensorError};
use kernel::Problem;

/// A bias added to every element of a row of C, or of a column.
#[derive(Clone, Copy, Debug, Default)]
pub enum Bias<'a> {
    /// No bias.
    #[default]
    None,
    /// `bias[i]` added to row `i` (a convolution's per-filter bias, C = `[F, N * P]`).
    Rows(&'a [f32]),
    /// `bias[j]` added to column `j` (a dense layer's bias, C = `[batch, units]`).
    Cols(&'a [f32]),
}

/// What happens to each product element on its way into C:
/// `C = act(alpha * (A * B) + beta * C + bias)`.
///
/// ```
/// use neurite_tensor::{Bias, Epilogue};
/// let bias = [0.5f32, -1.0];
/// let ep = Epilogue::default().bias(Bias::Rows(&bias)).relu(true);
/// assert_eq!(ep.beta, 0.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Epilogue<'a> {
    /// Scale of the product.
    pub alpha: f32,
    /// Scale of C's previous contents; 0 ignores them (even NaN).
    pub beta: f32,
    /// Bias per row or column.
    pub bias: Bias<'a>,
    /// Whether to apply ReLU (`x > 0 ? x : 0`) last.
    pub relu: bool,
}

impl Bias<'_> {
    /// The same bias for the transposed product.
    fn transposed(self) -> Self {
        match self {
            Bias::None => Bias::None,
            Bias::Rows(b) => Bias::Cols(b),
            Bias::Cols(b) => Bias::Rows(b),
        }
    }
}

impl Default for Epilogue<'_> {
    fn default() -> Self {
        Epilogue {
            alpha: 1.0,
            beta: 0.0,
            bias: Bias::None,
            relu: false,
        }
    }
}

impl<'a> Epilogue<'a> {
    /// Sets `beta` (1 accumulates into C).
    pub fn beta(mut self, beta: f32) -> Self {
        self.beta = beta;
        self
    }

    /// Sets `alpha`.
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets the bias.
    pub fn bias(mut self, bias: Bias<'a>) -> Self {
        self.bias = bias;
        self
    }

    /// Applies ReLU after the bias.
    pub fn relu(mut self, relu: bool) -> Self {
        self.relu = relu;
        self
    }

    #[inline(always)]
    fn row_bias(&self, i: usize) -> f32 {
        match self.bias {
            Bias::Rows(b) => b[i],
            _ => 0.0,
        }
    }

    #[inline(always)]
    fn col_bias(&self, j: usize) -> f32 {
        match self.bias {
            Bias::Cols(b) => b[j],
            _ => 0.0,
        }
    }

    #[inline(always)]
    fn activate(&self, v: f32) -> f32 {
        // Same convention as Activation::Relu: NaN maps to 0 there too.
        match self.relu {
            true if v > 0.0 => v,
            true => 0.0,
            false => v,
        }
    }
}

/// Below this many multiply-adds (about 0.1 ms of one core) a product runs on the calling
/// thread: waking a sleeping rayon worker costs tens of microseconds, which made the MLP's
/// batch-32 products (`[32, 784] x [784, 128]`, 3.2 M) slower on two threads than on one.
const MIN_PARALLEL_WORK: usize = 1 << 23;

/// `C = act(alpha * A * B + beta * C + bias)` with the best kernel for this CPU, split over
/// rayon's threads.
///
/// # Shapes
/// A: `[M, K]`, B: `[K, N]`, C: `[M, N]`; a row bias has M entries, a column bias N.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the shapes or the bias length disagree.
///
/// ```
/// use ndarray::array;
/// use neurite_tensor::{Bias, Epilogue, MatMut, MatRef, sgemm};
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let b = array![[1.0f32, -1.0], [1.0, -1.0]];
/// let mut c = ndarray::Array2::<f32>::zeros((2, 2));
/// let bias = [0.5f32, 0.5];
/// let ep = Epilogue::default().bias(Bias::Cols(&bias)).relu(true);
/// sgemm(MatRef::new(a.view()), MatRef::new(b.view()), MatMut::new(c.view_mut()), ep).unwrap();
/// assert_eq!(c, array![[3.5, 0.0], [7.5, 0.0]]);
/// ```
pub fn sgemm(a: MatRef<'_>, b: MatRef<'_>, c: MatMut<'_>, epilogue: Epilogue<'_>) -> Result<()> {
    sgemm_with(Kernel::best(), true, a, b, c, epilogue)
}

/// [`sgemm`] on the calling thread only, for callers that already run in parallel.
///
/// # Errors
/// As [`sgemm`].
pub fn sgemm_serial(
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: MatMut<'_>,
    epilogue: Epilogue<'_>,
) -> Result<()> {
    sgemm_with(Kernel::best(), false, a, b, c, epilogue)
}

/// [`sgemm`] with a chosen kernel (tests and benchmarks compare them), in parallel or not.
///
/// # Errors
/// As [`sgemm`], and [`TensorError::InvalidArgument`] when this CPU cannot run `kernel`.
pub fn sgemm_with(
    kernel: Kernel,
    parallel: bool,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: MatMut<'_>,
    epilogue: Epilogue<'_>,
) -> Result<()> {
    check(&a, &b, &c, &epilogue)?;
    if !kernel.is_supported() {
        return Err(TensorError::invalid(
            "sgemm",
            "kernel",
            format!("{kernel:?}"),
            "is not supported by this CPU",
        ));
    }
    let k = a.dim().1;
    let overlap = c.overlap;
    let problem = Problem {
        a: a.ptr,
        a_layout: a.layout,
        b: b.ptr,
        b_layout: b.layout,
        c: c.ptr,
        c_layout: c.layout,
        epilogue,
        k: 0..k,
    };
    match overlap {
        Some(sample_cols) => execute_by_samples(kernel, parallel, &problem, sample_cols),
        None => execute(kernel, parallel, &problem),
    }
    Ok(())
}

/// Runs a checked product: split-K, or C split between tasks, or on this thread.
fn execute(kernel: Kernel, parallel: bool, problem: &Problem<'_>) {
    let (m, k, n) = (
        problem.a_layout.rows.len,
        problem.k.len(),
        problem.b_layout.cols.len,
    );
    if m == 0 || n == 0 {
        // Nothing to compute; `split_k` would cut its empty partial sums into empty chunks.
        return;
    }
    let (mr, nr) = kernel.tile();
    // C = A B as C^T = B^T A^T when that fills the register tiles better: a classifier's
    // `[1000, 128] x [128, 10]` pads 10 columns to a 32-wide tile, where the transpose pads 10
    // rows to 16. The FMAs per element are the same, so are the values.
    let tiles = |rows: usize, cols: usize| rows.div_ceil(mr) * cols.div_ceil(nr);
    if 4 * tiles(n, m) < 3 * tiles(m, n) {
        execute(kernel, parallel, &problem.transposed());
        return;
    }
    let chunks = split_k_chunks(m, n, k, (mr, nr));
    if chunks > 1 {
        split_k(kernel, parallel, problem, chunks);
        return;
    }
    let work = m.saturating_mul(n).saturating_mul(k.max(1));
    let threads = rayon::current_num_threads();
    if !parallel || threads == 1 || work < MIN_PARALLEL_WORK {
        kernel.run(problem, 0..m, 0..n);
        return;
    }
    // Split the longer side of C into whole tiles: at least one task per thread, up to four
    // while each keeps TASK_SPAN rows or columns. Every task packs the whole other operand, so
    // fewer tasks pack less (eight tasks over a dense layer's 1000 rows packed its weight eight
    // times, as long as the product itself), but a few per thread keep the cores busy when
    // another process takes one for a moment. The split only balances the load: the result is
    // the same for any split, hence for any thread count.
    let tasks =
        |len: usize, tile: usize| (len / TASK_SPAN.max(4 * tile)).clamp(threads, 4 * threads);
    if n >= m {
        let chunk = n.div_ceil(tasks(n, nr)).next_multiple_of(nr);
        (0..n.div_ceil(chunk)).into_par_iter().for_each(|t| {
            kernel.run(problem, 0..m, t * chunk..((t + 1) * chunk).min(n));
        });
    } else {
        let chunk = m.div_ceil(tasks(m, mr)).next_multiple_of(mr);
        (0..m.div_ceil(chunk)).into_par_iter().for_each(|t| {
            kernel.run(problem, t * chunk..((t + 1) * chunk).min(m), 0..n);
        });
    }
}

/// Runs a product into an output whose elements overlap ([`MatMut::col2im`]): at most
/// [`SAMPLE_TASKS`] tasks of whole samples, the split fixed by the sizes, so every element's
/// additions come in the same order for any thread count.
fn execute_by_samples(kernel: Kernel, parallel: bool, problem: &Problem<'_>, sample_cols: usize) {
    let (m, k, n) = (
        problem.a_layout.rows.len,
        problem.k.len(),
        problem.b_layout.cols.len,
    );
    let samples = n / sample_cols.max(1);
    let span = samples.div_ceil(SAMPLE_TASKS).max(1) * sample_cols;
    let tasks = n.div_ceil(span.max(1));
    let run_task = |t: usize| kernel.run(problem, 0..m, t * span..((t + 1) * span).min(n));
    let work = m.saturating_mul(n).saturating_mul(k.max(1));
    if parallel && rayon::current_num_threads() > 1 && work >= MIN_PARALLEL_WORK {
        (0..tasks).into_par_iter().for_each(run_task);
    } else {
        (0..tasks).for_each(run_task);
    }
}

/// Tasks of whole samples for an output whose elements overlap: enough to balance two, four or
/// eight threads.
const SAMPLE_TASKS: usize = 8;

/// Rows or columns of C per task, at least, when there are more tasks than threads.
const TASK_SPAN: usize = 512;

/// K values per chunk of a split-K product, at least.
const SPLIT_K_MIN: usize = 2048;

/// How many K chunks a product is split into, from the sizes alone. More than one:
/// - when C has at most four tiles and K is long, as in the weight gradient of a first
///   convolution (`[32, 43264] x [43264, 9]`), where splitting C cannot feed two threads;
/// - when K is long against both sides of C, as in the weight gradient of the second
///   (`[64, 7744] x [7744, 288]`): split by columns, every task would pack all of A, and 288
///   columns make nine tiles, which two threads share 5 : 4. A power of two of chunks splits
///   evenly between two, four or eight threads.
fn split_k_chunks(m: usize, n: usize, k: usize, (mr, nr): (usize, usize)) -> usize {
    if m.div_ceil(mr) * n.div_ceil(nr) <= 4 && k >= 8 * SPLIT_K_MIN {
        return (k / SPLIT_K_MIN).min(16);
    }
    if k >= 16 * m.max(n) && k >= 2 * SPLIT_K_MIN {
        let most = (k / SPLIT_K_MIN).min(16);
        return 1 << most.ilog2();
    }
    1
}

/// Computes `chunks` partial products over consecutive K ranges (in parallel when asked), then
/// adds them in chunk order and applies the epilogue: the same sum for any thread count.
fn split_k(kernel: Kernel, parallel: bool, p: &Problem<'_>, chunks: usize) {
    let (m, n, k) = (p.a_layout.rows.len, p.b_layout.cols.len, p.k.len());
    let len = k.div_ceil(chunks);
    let area = m * n;
    let mut partial = vec![0.0f32; chunks * area];
    let part_layout = layout::Layout::matrix(m, n, &[n as isize, 1]);
    let run_chunk = |(i, out): (usize, &mut [f32])| {
        let chunk = Problem {
            a: p.a,
            a_layout: p.a_layout,
            b: p.b,
            b_layout: p.b_layout,
            c: out.as_mut_ptr(),
            c_layout: part_layout,
            epilogue: Epilogue::default(),
            k: i * len..((i + 1) * len).min(k),
        };
        kernel.run(&chunk, 0..m, 0..n);
    };
    if parallel {
        partial.par_chunks_mut(area).enumerate().for_each(run_chunk);
    } else {
        partial.chunks_mut(area).enumerate().for_each(run_chunk);
    }
    let ep = &p.epilogue;
    for i in 0..m {
        for j in 0..n {
            let sum = (0..chunks).fold(0.0f32, |acc, c| acc + partial[c * area + i * n + j]);
            let off = p.c_layout.rows.offset(i) + p.c_layout.cols.offset(j);
            // SAFETY: `(i, j)` is an element of C (`i < M`, `j < N`), readable and writable by
            // `p`'s contract, and no other thread touches C now: the chunk tasks wrote only
            // `partial` and have all finished.
            unsafe {
                let d = p.c.offset(off);
                let mut v = ep.alpha * sum;
                if ep.beta != 0.0 {
                    v += ep.beta * *d;
                }
                *d = ep.activate(v + ep.row_bias(i) + ep.col_bias(j));
            }
        }
    }
}

fn check(a: &MatRef<'_>, b: &MatRef<'_>, c: &MatMut<'_>, ep: &Epilogue<'_>) -> Result<()> {
    let ((m, k), (kb, n)) = (a.dim(), b.dim());
    if k != kb || c.dim() != (m, n) {
        return Err(TensorError::mismatch(
            "sgemm",
            format!(
                "A is {:?}, B is {:?} and C is {:?}; need [M, K] x [K, N] -> [M, N]",
                a.dim(),
                b.dim(),
                c.dim()
            ),
        ));
    }
    let bias_ok = match ep.bias {
        Bias::None => true,
        Bias::Rows(v) => v.len() == m,
        Bias::Cols(v) => v.len() == n,
    };
    if !bias_ok {
        return Err(TensorError::mismatch(
            "sgemm",
            format!("bias {:?} does not fit C [{m}, {n}]", ep.bias),
        ));
    }
    let adds_only = ep.beta == 1.0 && matches!(ep.bias, Bias::None) && !ep.relu;
    if c.overlap.is_some() && !adds_only {
        return Err(TensorError::invalid(
            "sgemm",
            "epilogue",
            format!("{ep:?}"),
            "must add the product into a col2im output: beta 1, no bias, no ReLU",
        ));
    }
    Ok(())
}

/// `C = alpha * A * B + beta * C` for raw strided matrices on the calling thread, with the best
/// kernel: the f32 path of [`gemm`](crate::gemm()).
///
/// # Safety
/// As [`Float::gemm_raw`](crate::Float::gemm_raw): `a`, `b` and `c` with their row and column
/// strides address valid `m x k`, `k x n` and `m x n` matrices, `c` writable and overlapping
/// neither `a` nor `b`. These are the conditions of `kernel::run` for the whole of C, which
/// `execute` hands to one task at a time (`parallel` is false).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_strided(
    (m, k, n): (usize, usize, usize),
    alpha: f32,
    (a, rsa, csa): (*const f32, isize, isize),
    (b, rsb, csb): (*const f32, isize, isize),
    beta: f32,
    (c, rsc, csc): (*mut f32, isize, isize),
) {
    let layout = |rows: usize, cols: usize, rs: isize, cs: isize| {
        layout::Layout::matrix(rows, cols, &[rs, cs])
    };
    let problem = Problem {
        a,
        a_layout: layout(m, k, rsa, csa),
        b,
        b_layout: layout(k, n, rsb, csb),
        c,
        c_layout: layout(m, n, rsc, csc),
        epilogue: Epilogue::default().alpha(alpha).beta(beta),
        k: 0..k,
    };
    execute(Kernel::best(), false, &problem);
}
