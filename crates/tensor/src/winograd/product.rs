//! The products between the transforms, with the sgemm micro-kernel reading both operands
//! where they lie.
//!
//! Their K is short: the channels (32 for the reference CNN's second convolution), so each
//! element of an operand takes part in few multiply-adds, and packing it first, as the general
//! [`sgemm`](crate::sgemm()) does, cost as much as the multiply-adds themselves. Here the
//! operands are small enough to stay in L1 (a tile row block of `V` is MR rows of C floats,
//! `U[xi]` is `C x F`), so the micro-kernel broadcasts A's elements and loads B's rows in
//! place, and the tile goes straight to a row-major C. Edges narrower than a register tile go
//! through the general sgemm.

use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::sgemm::{Kernel, Simd, micro_kernel};
use crate::{Epilogue, MatMut, MatRef, sgemm_with};

/// A matrix read in place: element `(i, j)` at `ptr + i * row + j * col`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Operand {
    pub ptr: *const f32,
    pub row: usize,
    pub col: usize,
}

/// A row-major output: element `(i, j)` at `ptr + i * row + j`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Output {
    pub ptr: *mut f32,
    pub row: usize,
}

/// `c = a b` (or `c += a b` when `accumulate`) for `a` `[m, k]`, `b` `[k, n]` with adjacent
/// columns, on this thread: whole `MR x NR` tiles by the micro-kernel, the edges by `kernel`'s
/// general sgemm. Every element is summed in the order of K, whichever path computes it.
///
/// # Safety
/// The CPU runs `S`, and `MR x (NV * S::LANES)` is `kernel`'s register tile (`kernel` is one
/// `is_supported` accepts). `k > 0`; `a` addresses `m x k` readable floats, `b` `k x n` with
/// `b.col == 1` (the micro-kernel loads a row's columns as vectors), and `c` `m x n` writable
/// ones with `c.row >= n`; `c` overlaps neither operand. Pointers come from slices, so they
/// are non-null and aligned even when a matrix is empty.
#[inline(always)]
pub(super) unsafe fn product<S: Simd, const MR: usize, const NV: usize>(
    kernel: Kernel,
    (m, k, n): (usize, usize, usize),
    a: Operand,
    b: Operand,
    c: Output,
    accumulate: bool,
) {
    debug_assert_eq!(b.col, 1);
    let nr = NV * S::LANES;
    let (m_full, n_full) = (m / MR * MR, n / nr * nr);
    // SAFETY: the CPU runs `S`. Tile `(i0, j0)` has `i0 + MR <= m_full <= m` and `j0 + nr <=
    // n_full <= n`, so the micro-kernel reads elements `(i0 + i, kk)` of `a` (steps `a.col`
    // along k, `a.row` across rows) and the `nr` adjacent floats of row `kk` of `b` from column
    // `j0`, all inside the operands; the stores write `LANES` floats at row `i0 + i`, columns
    // `j0 + v * LANES ..`, inside `c`'s `m x n`. The edges are `edge`'s rows and columns of the
    // same operands, under this function's contract.
    unsafe {
        for i0 in (0..m_full).step_by(MR) {
            for j0 in (0..n_full).step_by(nr) {
                let a_tile = a.ptr.add(i0 * a.row);
                let acc =
                    micro_kernel::<S, MR, NV>(k, a_tile, (a.col, a.row), b.ptr.add(j0), b.row);
                for (i, row) in acc.iter().enumerate() {
                    let dst = c.ptr.add((i0 + i) * c.row + j0);
                    for (v, &x) in row.iter().enumerate() {
                        let p = dst.add(v * S::LANES);
                        S::store(p, if accumulate { S::add(S::load(p), x) } else { x });
                    }
                }
            }
        }
        edge(kernel, k, a, b, c, (0..m_full, n_full..n), accumulate);
        edge(kernel, k, a, b, c, (m_full..m, 0..n), accumulate);
    }
}

/// The rows and columns given of [`product`], by the general sgemm.
///
/// # Safety
/// As [`product`].
unsafe fn edge(
    kernel: Kernel,
    k: usize,
    a: Operand,
    b: Operand,
    c: Output,
    (rows, cols): (Range<usize>, Range<usize>),
    accumulate: bool,
) {
    if rows.is_empty() || cols.is_empty() {
        return;
    }
    // SAFETY: `from_shape_ptr` needs elements valid for the views' lifetime, which ends with
    // this function, non-null aligned pointers, non-negative strides and offsets inside one
    // allocation: `rows` and `cols` are non-empty ranges within `m` and `n` and `k > 0`, so
    // each view is a block of an operand of the caller's contract and starts at one of its
    // elements (`(rows.start, 0)` of `a`, `(0, cols.start)` of `b`, `(rows.start, cols.start)`
    // of `c`); the strides are `usize`, and the pointers come from slices. `c`'s elements are
    // distinct (`c.row >= n`) and overlap neither `a` nor `b`, so the mutable view aliases
    // nothing.
    let (a, b, c) = unsafe {
        (
            ArrayView2::from_shape_ptr(
                (rows.len(), k).strides((a.row, a.col)),
                a.ptr.add(rows.start * a.row),
            ),
            ArrayView2::from_shape_ptr(
                (k, cols.len()).strides((b.row, b.col)),
                b.ptr.add(cols.start * b.col),
            ),
            ArrayViewMut2::from_shape_ptr(
                (rows.len(), cols.len()).strides((c.row, 1)),
                c.ptr.add(rows.start * c.row + cols.start),
            ),
        )
    };
    let beta = if accumulate { 1.0 } else { 0.0 };
    sgemm_with(
        kernel,
        false,
        MatRef::new(a),
        MatRef::new(b),
        MatMut::new(c),
        Epilogue::default().beta(beta),
    )
    .expect("shapes fit by construction");
}
