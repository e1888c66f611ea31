//! Packing: copying a block of each operand into the order the micro-kernel reads it.
//!
//! The micro-kernel walks `k` and, for each `k`, reads `MR` values of A and `NR` values of B
//! that are adjacent in memory. Packing lays the block out that way once (zero-padding the
//! last, partial panel), so the kernel's loads are sequential however the operand is strided:
//! a transpose, the wide view of NCHW planes, the unfolded view of a convolution's input, or an
//! ordinary row-major matrix all cost one copy.

use super::layout::Layout;
use super::simd::Simd;

/// Packs rows `r0..r0 + rn` (`rn <= MR`) of A over the K block whose column offsets are
/// `k_offsets` into `dst[k * MR + i]`, zero-filling rows `rn..MR`.
///
/// # Safety
/// The CPU runs `S`. `rn <= MR`; rows `r0..r0 + rn` are rows of A and `k_offsets` are the
/// column offsets of some of its columns, so that `a + layout.rows.offset(r0 + i) + off` is
/// a readable element of A for every `i < rn` and `off` in `k_offsets`, and A has a column 0
/// (K > 0). `dst` is valid for `k_offsets.len() * MR` writes and overlaps nothing of A.
#[inline(always)]
pub(crate) unsafe fn pack_a<S: Simd, const MR: usize>(
    a: *const f32,
    layout: &Layout,
    r0: usize,
    rn: usize,
    k_offsets: &[isize],
    dst: *mut f32,
) {
    let kc = k_offsets.len();
    let contiguous = k_offsets.windows(2).all(|w| w[1] == w[0] + 1);
    let row = |i: usize| layout.rows.offset(r0 + i);
    // SAFETY: every address below is `a + row(i) + k_offsets[k]` for `i < rn`, `k < kc`, an
    // element of A by the caller's contract (or `a + row(i)`, element `(r0 + i, 0)`, as a base
    // to offset from), and every write is `dst[k * MR + i]` for `k < kc`, `i < MR`. Per path:
    // - rows of uniform stride 1 lie at `row(0) + i` (`Axis::uniform_stride` returns a stride
    //   only when every index `i` of the axis sits at `i * stride`), so with `rn == MR` the
    //   `MR` floats from `row(0) + off` are rows `r0..r0 + MR` of one column;
    // - consecutive `k_offsets` put column `k` of row `i` at `rows[i] + k`; the 8 x 8 blocks
    //   need `MR` a multiple of 8 and `k + 8 <= blocked <= kc`, and write `dst[(k + kk) * MR
    //   + g + i]` for `kk, i < 8` with `g + 8 <= MR`, inside `kc * MR`.
    unsafe {
        if layout.rows.uniform_stride() == Some(1) && rn == MR {
            // Rows adjacent in memory (a transposed operand): each k is one run of MR values.
            let first = row(0);
            for (k, &off) in k_offsets.iter().enumerate() {
                let src = a.offset(first + off);
                std::ptr::copy_nonoverlapping(src, dst.add(k * MR), MR);
            }
            return;
        }
        if contiguous && rn == MR && kc > 0 {
            // Row-major A: MR rows read side by side, 8 x 8 blocks at a time, then one k at a
            // time for the rest.
            let rows: [*const f32; MR] = std::array::from_fn(|i| a.offset(row(i) + k_offsets[0]));
            let blocked = if MR.is_multiple_of(8) { kc / 8 * 8 } else { 0 };
            for k in (0..blocked).step_by(8) {
                for g in (0..MR).step_by(8) {
                    let src = std::array::from_fn(|i| rows[g + i].add(k));
                    S::transpose8(src, dst.add(k * MR + g), MR);
                }
            }
            for k in blocked..kc {
                let d = dst.add(k * MR);
                for (i, row) in rows.iter().enumerate() {
                    *d.add(i) = *row.add(k);
                }
            }
            return;
        }
        for i in 0..rn {
            let row = a.offset(row(i));
            for (k, &off) in k_offsets.iter().enumerate() {
                *dst.add(k * MR + i) = *row.offset(off);
            }
        }
        for i in rn..MR {
            for k in 0..kc {
                *dst.add(k * MR + i) = 0.0;
            }
        }
    }
}

/// Packs the rows of B whose offsets are `k_offsets` (one K block) over the panel columns
/// whose offsets are `col_offsets` (`col_offsets.len() <= NR`) into `dst[k * NR + j]`,
/// zero-filling columns past the panel.
///
/// # Safety
/// The CPU runs `S`. `col_offsets` (between 1 and `NR` of them) and `k_offsets` are the
/// column and row offsets of some elements of B, so that `b + off_k + off_j` is a readable
/// element for every `off_k` in `k_offsets` and `off_j` in `col_offsets`; B has a row 0 and a
/// column 0 (their offsets are 0). `dst` is valid for `k_offsets.len() * NR` writes and
/// overlaps nothing of B.
#[inline(always)]
pub(crate) unsafe fn pack_b<S: Simd, const NR: usize>(
    b: *const f32,
    k_offsets: &[isize],
    col_offsets: &[isize],
    dst: *mut f32,
) {
    let (kc, cn) = (k_offsets.len(), col_offsets.len());
    let adjacent = |offsets: &[isize]| offsets.windows(2).all(|w| w[1] == w[0] + 1);
    // SAFETY: `b + k_offsets[k]` is element `(pc + k, 0)` and `b + col_offsets[j]` element
    // `(0, j0 + j)`, bases inside B; every read adds the other offset, landing on an element
    // `(pc + k, j0 + j)` the caller vouches for, and every write is `dst[k * NR + j]` with
    // `k < kc`, `j < NR`. Per path:
    // - adjacent columns: the `cn <= NR` floats from `base + off` are columns `j0..j0 + cn`;
    // - adjacent k: row `k` of column `j` is `base + col_offsets[j] + k`, and the 8 x 8 blocks
    //   (`NR` a multiple of 8, `cn == NR`, `k + 8 <= kc`) write `dst[(k + kk) * NR + g + j]`
    //   with `g + 8 <= NR`;
    // - the gather: a run `(start, len, off)` has `len <= LANES` adjacent columns from `off`,
    //   read with `load_first` and written to `dst[k * NR + start..][..len]`, inside the
    //   panel as `start + len <= cn <= NR`; `transpose_columns` is entered only when rows `k ..
    //   k + 8` are consecutive in memory and `NR` is a multiple of 8, its conditions.
    unsafe {
        if adjacent(col_offsets) && cn > 0 {
            // A run of a row (the common case: row-major B, or a panel inside one plane).
            let base = b.offset(col_offsets[0]);
            if cn == NR {
                // A fixed-size copy: inlined vector moves, not a memcpy call per row.
                for (k, &off) in k_offsets.iter().enumerate() {
                    std::ptr::copy_nonoverlapping(base.offset(off), dst.add(k * NR), NR);
                }
                return;
            }
            for (k, &off) in k_offsets.iter().enumerate() {
                let d = dst.add(k * NR);
                std::ptr::copy_nonoverlapping(base.offset(off), d, cn);
                for j in cn..NR {
                    *d.add(j) = 0.0;
                }
            }
        } else if adjacent(k_offsets) && kc > 0 {
            // K runs along memory (a transposed operand): 8 columns x 8 k at a time, then
            // each column's remaining k sequentially.
            let base = b.offset(k_offsets[0]);
            let blocked = if NR.is_multiple_of(8) && cn == NR {
                kc / 8 * 8
            } else {
                0
            };
            for k in (0..blocked).step_by(8) {
                for g in (0..NR).step_by(8) {
                    let src = std::array::from_fn(|j| base.offset(col_offsets[g + j]).add(k));
                    S::transpose8(src, dst.add(k * NR + g), NR);
                }
            }
            for (j, &off) in col_offsets.iter().enumerate() {
                let src = base.offset(off);
                for k in blocked..kc {
                    *dst.add(k * NR + j) = *src.add(k);
                }
            }
            for k in 0..kc {
                for j in cn..NR {
                    *dst.add(k * NR + j) = 0.0;
                }
            }
        } else {
            // A gather: the unfolded view of a convolution's input, or its transpose for the
            // weight gradient. Eight k that run along an output row (the transposed view) go
            // through the transpose; otherwise each k copies the panel's runs of adjacent
            // columns (an output row, in the forward view) a vector at a time.
            let mut runs = [(0usize, 0usize, 0isize); NR];
            let mut run_count = 0;
            let mut j = 0;
            while j < cn {
                let start = j;
                j += 1;
                while j < cn && j - start < S::LANES && col_offsets[j] == col_offsets[j - 1] + 1 {
                    j += 1;
                }
                runs[run_count] = (start, j - start, col_offsets[start]);
                run_count += 1;
            }
            let runs = &runs[..run_count];
            let mut k = 0;
            while k < kc {
                let run = NR.is_multiple_of(8)
                    && k + 8 <= kc
                    && k_offsets[k + 7] == k_offsets[k] + 7
                    && adjacent(&k_offsets[k..k + 8]);
                if run {
                    transpose_columns::<S, NR>(
                        b.offset(k_offsets[k]),
                        col_offsets,
                        dst.add(k * NR),
                    );
                    k += 8;
                    continue;
                }
                let src = b.offset(k_offsets[k]);
                let d = dst.add(k * NR);
                if runs.len() * 2 <= cn {
                    for &(start, len, off) in runs {
                        S::store_first(d.add(start), S::load_first(src.offset(off), len), len);
                    }
                } else {
                    for (j, &off) in col_offsets.iter().enumerate() {
                        *d.add(j) = *src.offset(off);
                    }
                }
                for j in cn..NR {
                    *d.add(j) = 0.0;
                }
                k += 1;
            }
        }
    }
}

/// Packs eight consecutive k of every panel column (`col_offsets` from `base`, each column's k
/// adjacent in memory) into `dst[k * NR + j]` through 8 x 8 transposes, zero-filling the columns
/// past the panel.
///
/// # Safety
/// The CPU runs `S`; `NR` is a multiple of 8 and `1 <= col_offsets.len() <= NR`;
/// `base.offset(off)` is valid for 8 f32 reads for every `off` in `col_offsets`; `dst` is
/// valid for `8 * NR` writes and overlaps none of them.
#[inline(always)]
unsafe fn transpose_columns<S: Simd, const NR: usize>(
    base: *const f32,
    col_offsets: &[isize],
    dst: *mut f32,
) {
    let cn = col_offsets.len();
    // SAFETY: every source row is `base + col_offsets[g + j]`, or `base + col_offsets[0]` past
    // the panel, valid for 8 reads by the contract. Block `g` (a multiple of 8 below `cn <=
    // NR`, so `g + 8 <= NR` for `NR` a multiple of 8) writes `dst[kk * NR + g + j]` for `kk, j
    // < 8`, and the zero fill `dst[k * NR + j]` for `k < 8`, `j < NR`: all inside `8 * NR`.
    unsafe {
        for g in (0..cn).step_by(8) {
            // Columns past a partial panel read column 0 again; they are zeroed below.
            let src = std::array::from_fn(|j| {
                base.offset(*col_offsets.get(g + j).unwrap_or(&col_offsets[0]))
            });
            S::transpose8(src, dst.add(g), NR);
        }
        if cn < NR {
            for k in 0..8 {
                for j in cn..NR {
                    *dst.add(k * NR + j) = 0.0;
                }
            }
        }
    }
}
