//! The blocked GEMM driver: K blocks, packing, the register-tile micro-kernel and the epilogue.
//!
//! Loop nest (outer to inner), after BLIS: `NC` columns of B are packed per K block, then for
//! each `MC` rows of A a packed A block, then every `MR x NR` tile of C runs the micro-kernel
//! over the whole K block with its accumulators in registers. A B micro-panel (`KC x NR`) stays
//! in L1 while the A panels stream from L2.
//!
//! Every element of C is the same sequence of FMAs whatever tile, block or task it falls in, so
//! the result does not depend on how the work is split between threads.

use std::ops::Range;

use super::Epilogue;
use super::layout::Layout;
use super::pack::{pack_a, pack_b};
use super::simd::Simd;

/// Columns of B packed per block.
const NC: usize = 512;
/// Rows of A packed per block.
const MC: usize = 96;
/// The largest register tile (`MR * NR`) of any kernel, for the tile buffer on the stack.
const MAX_TILE: usize = 256;

/// One product `C = epilogue(A * B)` with raw operands; tasks get disjoint row or column ranges.
pub(crate) struct Problem<'a> {
    pub a: *const f32,
    pub a_layout: Layout,
    pub b: *const f32,
    pub b_layout: Layout,
    pub c: *mut f32,
    pub c_layout: Layout,
    pub epilogue: Epilogue<'a>,
    /// The part of the K sum to compute: `0..K`, or one chunk of a split-K product.
    pub k: Range<usize>,
}

impl<'a> Problem<'a> {
    /// The product `C^T = B^T A^T`: the same elements of C, the operands' roles swapped.
    pub fn transposed(&self) -> Problem<'a> {
        Problem {
            a: self.b,
            a_layout: self.b_layout.transposed(),
            b: self.a,
            b_layout: self.a_layout.transposed(),
            c: self.c,
            c_layout: self.c_layout.transposed(),
            epilogue: Epilogue {
                bias: self.epilogue.bias.transposed(),
                ..self.epilogue
            },
            k: self.k.clone(),
        }
    }
}

// SAFETY: the pointers come from MatRef / MatMut borrows (or the contract of `gemm_strided`)
// that outlive the product, so another thread may use them as long as the product runs; what a
// task writes through `c` is its own range of C (see `Sync`).
unsafe impl Send for Problem<'_> {}
// SAFETY: shared between the tasks of one product, a Problem is only read through `a` and
// `b` (borrowed shared) and written through `c` at the rows and columns each task was given,
// which `execute`, `execute_by_samples` and `split_k` keep disjoint, so no element is written
// by two threads or written by one while another reads it.
unsafe impl Sync for Problem<'_> {}

/// Packing buffers, reused between calls on the same thread.
#[derive(Default)]
pub(crate) struct Buffers {
    a: Vec<f32>,
    b: Vec<f32>,
    /// Offsets of A's columns and of B's rows in the current K block.
    a_k_offsets: Vec<isize>,
    b_k_offsets: Vec<isize>,
}

/// The `MR x NR` register tile: `acc[i][v]` holds `sum_k a(i, k) * b[k * b_step + j]` for the
/// `S::LANES` columns `j` of vector `v`, with `NR = NV * S::LANES` and `a(i, k)` at `a + k *
/// a_step.0 + i * a_step.1`: `(MR, 1)` for a packed panel, or the strides of an operand read in
/// place. It is returned in registers, so a whole tile goes into C without a round trip
/// through memory.
///
/// # Safety
/// The CPU runs `S`. For every `k < kc` and `i < MR`, `a + k * a_step.0 + i * a_step.1` is
/// valid for one f32 read, and `b + k * b_step` for `NV * S::LANES` reads.
#[inline(always)]
pub(crate) unsafe fn micro_kernel<S: Simd, const MR: usize, const NV: usize>(
    kc: usize,
    a: *const f32,
    a_step: (usize, usize),
    b: *const f32,
    b_step: usize,
) -> [[S::V; NV]; MR] {
    // SAFETY: the loads are `b + k * b_step + v * LANES` for `v < NV` (`NV * LANES` floats from
    // row `k` of B) and `a + k * a_step.0 + i * a_step.1` for `i < MR`, with `k < kc`: exactly
    // the reads the caller vouches for. The other operations only need `S`'s instruction set.
    unsafe {
        let mut acc = [[S::zero(); NV]; MR];
        for k in 0..kc {
            let bk = b.add(k * b_step);
            let mut bv = [S::zero(); NV];
            for (v, r) in bv.iter_mut().enumerate() {
                *r = S::load(bk.add(v * S::LANES));
            }
            let ak = a.add(k * a_step.0);
            for (i, row) in acc.iter_mut().enumerate() {
                let av = S::splat(*ak.add(i * a_step.1));
                for (r, &bv) in row.iter_mut().zip(&bv) {
                    *r = S::fma(av, bv, *r);
                }
            }
        }
        acc
    }
}

/// Runs the rows and columns given of `p` with an `MR x (NV * S::LANES)` kernel and K blocks of
/// about `kc_target` steps.
///
/// # Safety
/// The CPU supports `S`'s instructions. `p`'s pointers and layouts are valid: every element
/// `(i, k)` of A (`i < M`, `k < K`) and `(k, j)` of B lies at its pointer plus the layout's
/// offset and can be read, every element `(i, j)` of C can be read and written, and C
/// overlaps neither A nor B. `rows` and `cols` lie within `M` and `N`, `p.k` within `K`, and
/// no other thread touches the memory of these rows and columns of C while this runs (the
/// elements of a col2im output share memory with each other, never with another sample's
/// columns, which is how `execute_by_samples` splits them).
#[inline(always)]
pub(crate) unsafe fn run<S: Simd, const MR: usize, const NV: usize, const NR: usize>(
    p: &Problem<'_>,
    rows: Range<usize>,
    cols: Range<usize>,
    kc_target: usize,
    bufs: &mut Buffers,
) {
    // At compile time, for each kernel: the register tile fits the `tile` buffer below and
    // `NR` is the micro-kernel's width, which the bounds of the unsafe blocks rely on.
    const { assert!(NR == NV * S::LANES && MR * NR <= MAX_TILE) };
    let ks = p.k.clone();
    let k = ks.len();
    if rows.is_empty() || cols.is_empty() {
        return;
    }
    if k == 0 {
        // An empty sum: only the beta, bias and activation terms are left.
        // SAFETY: this function's own contract, which is `empty_sum`'s.
        unsafe { empty_sum(p, rows, cols) };
        return;
    }
    // Equal K blocks, sized from K alone, so every task sums in the same order.
    let kc_size = k.div_ceil(k.div_ceil(kc_target));
    bufs.a.resize(MC.next_multiple_of(MR) * kc_size, 0.0);
    bufs.b.resize(NC.next_multiple_of(NR) * kc_size, 0.0);
    bufs.a_k_offsets.resize(kc_size, 0);
    bufs.b_k_offsets.resize(kc_size, 0);
    let (abuf, bbuf) = (bufs.a.as_mut_ptr(), bufs.b.as_mut_ptr());
    let mut col_offsets = [0isize; NR];
    let mut c_offsets = [0isize; NR];
    let mut tile = [0.0f32; MAX_TILE];
    for jc in cols.clone().step_by(NC) {
        let nc = NC.min(cols.end - jc);
        for pc in ks.clone().step_by(kc_size) {
            let kc = kc_size.min(ks.end - pc);
            let (first, last) = (pc == ks.start, pc + kc == ks.end);
            let b_k_offsets = &mut bufs.b_k_offsets[..kc];
            p.b_layout.rows.offsets(pc, b_k_offsets);
            for (q, j0) in (jc..jc + nc).step_by(NR).enumerate() {
                let cn = NR.min(jc + nc - j0);
                p.b_layout.cols.offsets(j0, &mut col_offsets[..cn]);
                // SAFETY: `b_k_offsets` and `col_offsets` are the layout's offsets of B's rows
                // `pc..pc + kc` (inside `p.k`, so inside K) and columns `j0..j0 + cn` (inside
                // `cols`, so inside N), elements the caller vouches for; K > 0 here, so
                // element `(0, j0)` exists. Panel `q < ceil(NC / NR)` is written at
                // `q * kc * NR .. (q + 1) * kc * NR`, inside `bufs.b`, which holds
                // `ceil(NC / NR) * NR * kc_size` floats and `kc <= kc_size`.
                unsafe {
                    pack_b::<S, NR>(p.b, b_k_offsets, &col_offsets[..cn], bbuf.add(q * kc * NR))
                };
            }
            let k_offsets = &mut bufs.a_k_offsets[..kc];
            p.a_layout.cols.offsets(pc, k_offsets);
            for ic in rows.clone().step_by(MC) {
                let mc = MC.min(rows.end - ic);
                for (q, i0) in (ic..ic + mc).step_by(MR).enumerate() {
                    let rn = MR.min(ic + mc - i0);
                    // SAFETY: as for B: rows `i0..i0 + rn` of A are inside `rows`, so inside M,
                    // and `k_offsets` address its columns `pc..pc + kc`; panel `q <
                    // ceil(MC / MR)` ends at `(q + 1) * kc * MR`, inside `bufs.a`'s
                    // `ceil(MC / MR) * MR * kc_size` floats.
                    unsafe {
                        pack_a::<S, MR>(p.a, &p.a_layout, i0, rn, k_offsets, abuf.add(q * kc * MR))
                    };
                }
                for (qb, j0) in (jc..jc + nc).step_by(NR).enumerate() {
                    let cn = NR.min(jc + nc - j0);
                    p.c_layout.cols.offsets(j0, &mut c_offsets[..cn]);
                    let runs: [Runs; NV] = std::array::from_fn(|v| {
                        Runs::of(
                            c_offsets
                                .get(v * S::LANES..(v + 1) * S::LANES)
                                .unwrap_or(&[]),
                        )
                    });
                    for (qa, i0) in (ic..ic + mc).step_by(MR).enumerate() {
                        let rn = MR.min(ic + mc - i0);
                        // SAFETY: panels `qa` and `qb` were packed above with `kc` steps of MR
                        // values and of NR = NV * LANES values (zero-padded past the operand),
                        // the reads `micro_kernel` makes with steps `(MR, 1)` and `NR`. A full
                        // tile has rows `i0..i0 + MR` and `c_offsets` for all NR columns, what
                        // `store_full_tile` needs; otherwise the registers are spilled to
                        // `tile[i * NR + v * LANES..][..LANES]`, inside its `MAX_TILE >= MR *
                        // NR` floats (asserted above), and `store_tile` gets the `rn` rows
                        // and `cn` column offsets that exist.
                        unsafe {
                            let acc = micro_kernel::<S, MR, NV>(
                                kc,
                                abuf.add(qa * kc * MR),
                                (MR, 1),
                                bbuf.add(qb * kc * NR),
                                NR,
                            );
                            if rn == MR && cn == NR {
                                store_full_tile::<S, MR, NV>(
                                    p, &acc, i0, j0, &c_offsets, &runs, first, last,
                                );
                                continue;
                            }
                            for (i, row) in acc.iter().enumerate() {
                                for (v, &r) in row.iter().enumerate() {
                                    S::store(tile.as_mut_ptr().add(i * NR + v * S::LANES), r);
                                }
                            }
                            store_tile(
                                p,
                                &tile[..MR * NR],
                                NR,
                                i0,
                                rn,
                                j0,
                                &c_offsets[..cn],
                                first,
                                last,
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Most runs of adjacent columns a vector of C may span and still be stored run by run.
const MAX_RUNS: usize = 4;

/// Where one vector's columns lie in C: runs of adjacent columns, as lane ranges.
#[derive(Clone, Copy, Debug, Default)]
struct Runs {
    /// How many runs: 1 for a vector of adjacent columns; 0 for more than [`MAX_RUNS`] (or no
    /// columns), which go lane by lane.
    count: usize,
    lanes: [(usize, usize); MAX_RUNS],
}

impl Runs {
    /// The runs of one vector's column offsets.
    fn of(offsets: &[isize]) -> Runs {
        let mut runs = Runs::default();
        let mut start = 0;
        for l in 1..=offsets.len() {
            if l < offsets.len() && offsets[l] == offsets[l - 1] + 1 {
                continue;
            }
            if runs.count == MAX_RUNS {
                return Runs::default();
            }
            runs.lanes[runs.count] = (start, l);
            runs.count += 1;
            start = l;
        }
        runs
    }
}

/// [`store_tile`] for a whole tile, straight from the registers. A vector whose columns are
/// not adjacent in C (a wide output's tile that crosses from one plane into the next, or the
/// rows of a col2im output) is read and written run by run with masked loads and stores, or
/// lane by lane when it has more than [`MAX_RUNS`] runs. The rows go one after another, so an
/// output whose elements overlap ([`MatMut::col2im`](super::MatMut::col2im)) adds up right.
///
/// # Safety
/// As [`run`], whose tile this is: the CPU runs `S`, C's rows `i0..i0 + MR` exist, `c_offsets`
/// (`NR = NV * S::LANES` of them) are the offsets of columns `j0..j0 + NR` and `runs` are
/// theirs, vector by vector, and a column bias has an entry for every one of those columns.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn store_full_tile<S: Simd, const MR: usize, const NV: usize>(
    p: &Problem<'_>,
    acc: &[[S::V; NV]; MR],
    i0: usize,
    j0: usize,
    c_offsets: &[isize],
    runs: &[Runs; NV],
    first: bool,
    last: bool,
) {
    let ep = &p.epilogue;
    let lanes = S::LANES;
    // One vector's lanes, for the vectors with too many runs.
    let mut spill = [0.0f32; 16];
    const { assert!(S::LANES <= 16, "a register spills into `spill`") };
    // SAFETY: `row` is element `(i0 + i, 0)` of C (column offset 0 is 0 in every layout), which
    // exists; `row + offsets[l]` is element `(i0 + i, j0 + v * LANES + l)`. A vector with one
    // run (`count == 1`) has its LANES columns adjacent in memory, so the full-width load and
    // store at `dst` touch exactly those elements; a vector of several runs touches lanes `a..b`
    // of each run at `run_base(a) + a ..`, which are `row + offsets[a..b]` because the offsets of
    // a run are consecutive; a vector of more runs goes element by element through `spill`,
    // whose 16 floats hold any `LANES`. The column bias is `check`ed to have N entries and the
    // tile's columns end at `j0 + NR <= N`, so each `LANES` read of it stays inside.
    unsafe {
        let alpha = S::splat(ep.alpha);
        let beta = S::splat(ep.beta);
        let mut col_bias = [S::zero(); NV];
        if let (true, super::Bias::Cols(b)) = (last, ep.bias) {
            for (v, cb) in col_bias.iter_mut().enumerate() {
                *cb = S::load(b[j0 + v * lanes..].as_ptr());
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            let row = p.c.offset(p.c_layout.rows.offset(i0 + i));
            let row_bias = S::splat(ep.row_bias(i0 + i));
            for (v, &cb) in col_bias.iter().enumerate() {
                let offsets = &c_offsets[v * lanes..(v + 1) * lanes];
                let runs = &runs[v];
                let dst = row.offset(offsets[0]);
                // Lane l of run (a, b) lies at `row + offsets[a] - a + l`.
                let run_base = |a: usize| row.wrapping_offset(offsets[a] - a as isize);
                // The previous contents of C, when the epilogue reads them. (No intrinsic in
                // a closure: a closure is compiled without the kernel's target features.)
                let old = if first && ep.beta == 0.0 {
                    S::zero()
                } else if runs.count == 1 {
                    S::load(dst)
                } else if runs.count > 1 {
                    let mut old = S::zero();
                    for &(a, b) in &runs.lanes[..runs.count] {
                        old = S::load_run(old, run_base(a), a, b);
                    }
                    old
                } else {
                    for (l, &off) in offsets.iter().enumerate() {
                        spill[l] = *row.offset(off);
                    }
                    S::load(spill.as_ptr())
                };
                let mut x = S::mul(alpha, acc[v]);
                if !first {
                    x = S::add(old, x);
                } else if ep.beta != 0.0 {
                    // Multiply, then add: the same two roundings as the scalar edge path.
                    x = S::add(x, S::mul(beta, old));
                }
                if last {
                    x = S::add(S::add(x, row_bias), cb);
                    if ep.relu {
                        x = S::relu(x);
                    }
                }
                if runs.count == 1 {
                    S::store(dst, x);
                } else if runs.count > 1 {
                    for &(a, b) in &runs.lanes[..runs.count] {
                        S::store_run(run_base(a), x, a, b);
                    }
                } else {
                    S::store(spill.as_mut_ptr(), x);
                    for (l, &off) in offsets.iter().enumerate() {
                        *row.offset(off) = spill[l];
                    }
                }
            }
        }
    }
}

/// Writes the valid `rn x cn` corner of a register tile into C, applying the epilogue: the
/// first K block brings in `beta * C`, later ones add to C, the last adds the bias and applies
/// the activation.
///
/// # Safety
/// As [`run`]: C's rows `i0..i0 + rn` exist and `c_offsets` are the offsets of its columns
/// `j0..j0 + c_offsets.len()`; `tile` holds `rn` rows of `nr >= c_offsets.len()` values.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn store_tile(
    p: &Problem<'_>,
    tile: &[f32],
    nr: usize,
    i0: usize,
    rn: usize,
    j0: usize,
    c_offsets: &[isize],
    first: bool,
    last: bool,
) {
    let ep = &p.epilogue;
    let cn = c_offsets.len();
    let contiguous = c_offsets.windows(2).all(|w| w[1] == w[0] + 1);
    for i in 0..rn {
        let acc = &tile[i * nr..i * nr + cn];
        // SAFETY: row i0 + i of C exists (`i < rn`) and so does its column 0, whose column
        // offset is 0 in every layout: `row` is the address of element `(i0 + i, 0)`, inside
        // C's allocation.
        let row = unsafe { p.c.offset(p.c_layout.rows.offset(i0 + i)) };
        let row_bias = ep.row_bias(i0 + i);
        let finish = |v: f32, j: usize| {
            if !last {
                return v;
            }
            ep.activate(v + row_bias + ep.col_bias(j0 + j))
        };
        let combine = |old: f32, acc: f32| {
            let v = ep.alpha * acc;
            if !first {
                old + v
            } else if ep.beta == 0.0 {
                // beta = 0 overwrites C, even NaN, as BLAS does.
                v
            } else {
                v + ep.beta * old
            }
        };
        if contiguous && cn > 0 {
            // SAFETY: the cn columns' offsets are consecutive, so elements `(i0 + i, j0 ..
            // j0 + cn)` are `cn` distinct, adjacent floats from `row + c_offsets[0]`, all of
            // C. No other reference to them lives while `dst` does: C is only reached through
            // raw pointers, one row at a time here, and other threads work on other columns
            // (`run`'s contract).
            let dst = unsafe { std::slice::from_raw_parts_mut(row.offset(c_offsets[0]), cn) };
            for (j, (d, &a)) in dst.iter_mut().zip(acc).enumerate() {
                *d = finish(combine(*d, a), j);
            }
        } else {
            for (j, (&off, &a)) in c_offsets.iter().zip(acc).enumerate() {
                // SAFETY: `row + off` is element `(i0 + i, j0 + j)` of C, readable and writable
                // by `run`'s contract, and not touched by another thread.
                unsafe {
                    let d = row.offset(off);
                    *d = finish(combine(*d, a), j);
                }
            }
        }
    }
}

/// `C = activation(beta * C + bias)` for a product with K = 0.
///
/// # Safety
/// As [`run`] (the CPU's instruction set aside: this is scalar code).
unsafe fn empty_sum(p: &Problem<'_>, rows: Range<usize>, cols: Range<usize>) {
    let ep = &p.epilogue;
    for i in rows {
        for j in cols.clone() {
            let off = p.c_layout.rows.offset(i) + p.c_layout.cols.offset(j);
            // SAFETY: `(i, j)` is inside `rows x cols`, an element of C the caller lets this
            // task read and write; `off` is its offset from `p.c`.
            unsafe {
                let d = p.c.offset(off);
                let old = if ep.beta == 0.0 { 0.0 } else { ep.beta * *d };
                *d = ep.activate(old + ep.row_bias(i) + ep.col_bias(j));
            }
        }
    }
}
