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
/// The CPU runs `S`; the operands address `[m, k]`, `[k, n]` and `[m, n]` valid floats, and
/// `c` overlaps neither.
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
    // SAFETY: the caller's operands cover these rows and columns.
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
