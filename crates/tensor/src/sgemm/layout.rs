//! Where each element of a GEMM operand lives in memory.
//!
//! An operand is a `rows x cols` matrix whose element `(r, c)` sits at
//! `r * row_stride + col_offset(c)`. Columns come in groups of `group` (one sample's plane),
//! group `g` starting at `g * group_stride`. An ordinary strided matrix is a single group; the
//! "wide" view of an NCHW batch `[N, F, P]` as `[F, N * P]` is `N` groups of `P` columns, which
//! lets a convolution read its output gradient and write its output in place, with no gather or
//! scatter pass.

use std::marker::PhantomData;

use ndarray::{ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3};

/// Element addressing of one operand (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
    pub group: usize,
    pub group_stride: isize,
}

impl Layout {
    fn matrix(rows: usize, cols: usize, strides: &[isize]) -> Self {
        Layout {
            rows,
            cols,
            row_stride: strides[0],
            col_stride: strides[1],
            // One group spanning every column; `max(1)` keeps the division defined when empty.
            group: cols.max(1),
            group_stride: 0,
        }
    }

    fn wide(shape: &[usize], strides: &[isize]) -> Self {
        Layout {
            rows: shape[1],
            cols: shape[0] * shape[2],
            row_stride: strides[1],
            col_stride: strides[2],
            group: shape[2].max(1),
            group_stride: strides[0],
        }
    }

    /// Memory offset of column `c` in row 0.
    #[inline(always)]
    pub fn col_offset(&self, c: usize) -> isize {
        (c / self.group) as isize * self.group_stride + (c % self.group) as isize * self.col_stride
    }

    /// Offsets of columns `c0..c0 + out.len()`, walking the groups without a division per column.
    #[inline(always)]
    pub fn col_offsets(&self, c0: usize, out: &mut [isize]) {
        let (mut g, mut q) = (c0 / self.group, c0 % self.group);
        for o in out {
            *o = g as isize * self.group_stride + q as isize * self.col_stride;
            q += 1;
            if q == self.group {
                q = 0;
                g += 1;
            }
        }
    }
}

/// A read-only GEMM operand: a matrix view, or the wide view of a batch of planes.
///
/// ```
/// use neurite_tensor::MatRef;
/// let x = ndarray::Array3::<f32>::zeros((2, 3, 4)); // [N, F, P]
/// let wide = MatRef::wide(x.view()); // as [F, N * P]
/// assert_eq!(wide.dim(), (3, 8));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub(crate) ptr: *const f32,
    pub(crate) layout: Layout,
    _borrow: PhantomData<&'a [f32]>,
}

// SAFETY: a MatRef is a shared borrow of f32 data, like ArrayView, which is Send + Sync.
unsafe impl Send for MatRef<'_> {}
unsafe impl Sync for MatRef<'_> {}

impl<'a> MatRef<'a> {
    /// A matrix view with any strides (pass `view.t()` for a transpose).
    pub fn new(view: ArrayView2<'a, f32>) -> Self {
        let (rows, cols) = view.dim();
        MatRef {
            ptr: view.as_ptr(),
            layout: Layout::matrix(rows, cols, view.strides()),
            _borrow: PhantomData,
        }
    }

    /// A batch of planes `[N, R, P]` read as the matrix `[R, N * P]` (sample `n` owns columns
    /// `n * P ..`).
    pub fn wide(view: ArrayView3<'a, f32>) -> Self {
        MatRef {
            ptr: view.as_ptr(),
            layout: Layout::wide(view.shape(), view.strides()),
            _borrow: PhantomData,
        }
    }

    /// `(rows, cols)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.layout.rows, self.layout.cols)
    }
}

/// A writable GEMM output: a matrix view, or the wide view of a batch of planes.
#[derive(Debug)]
pub struct MatMut<'a> {
    pub(crate) ptr: *mut f32,
    pub(crate) layout: Layout,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: a MatMut is a unique borrow of f32 data, like ArrayViewMut, which is Send + Sync;
// the GEMM hands each task a disjoint set of its elements.
unsafe impl Send for MatMut<'_> {}
unsafe impl Sync for MatMut<'_> {}

impl<'a> MatMut<'a> {
    /// A writable matrix view with any strides.
    pub fn new(mut view: ArrayViewMut2<'a, f32>) -> Self {
        let (rows, cols) = view.dim();
        let layout = Layout::matrix(rows, cols, view.strides());
        MatMut {
            ptr: view.as_mut_ptr(),
            layout,
            _borrow: PhantomData,
        }
    }

    /// A batch of planes `[N, R, P]` written as the matrix `[R, N * P]`.
    pub fn wide(mut view: ArrayViewMut3<'a, f32>) -> Self {
        let layout = Layout::wide(view.shape(), view.strides());
        MatMut {
            ptr: view.as_mut_ptr(),
            layout,
            _borrow: PhantomData,
        }
    }

    /// `(rows, cols)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.layout.rows, self.layout.cols)
    }
}
