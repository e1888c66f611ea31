//! Where each element of a GEMM operand lives in memory.
//!
//! An operand is a `rows x cols` matrix whose element `(r, c)` sits at
//! `rows.offset(r) + cols.offset(c)`. Each [`Axis`] splits its index into up to three digits
//! with a stride each, which covers, with no copy:
//! - an ordinary strided matrix (one digit per axis) and its transpose;
//! - the "wide" view of an NCHW batch `[N, F, P]` as `[F, N * P]`: column `c` is the digits
//!   `(n, p)`, which lets a convolution read its output gradient and write its output in place;
//! - the unfolded (im2col) view of an unpadded NCHW input as `[C * KH * KW, N * OH * OW]`:
//!   row `(ci, ky, kx)` and column `(n, oy, ox)` sit at `ci * sC + ky * sH + kx * sW` and
//!   `n * sN + oy * stride_h * sH + ox * stride_w * sW`, so the packing routines gather the
//!   convolution's columns straight from the input and no unfolded matrix is ever written.

use std::marker::PhantomData;

use ndarray::{ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, ArrayViewMut3, ArrayViewMut4};

use crate::{Result, TensorError, Window2d};

/// One side of an operand: index `i`, read as the digits `(i / (mid * inner), (i / inner) %
/// mid, i % inner)`, lies at the digits times `strides`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Axis {
    pub len: usize,
    mid: usize,
    inner: usize,
    strides: [isize; 3],
}

impl Axis {
    /// `len` indices `stride` apart.
    pub fn strided(len: usize, stride: isize) -> Self {
        // One digit: `max(1)` keeps the divisions defined when empty.
        Axis {
            len,
            mid: 1,
            inner: len.max(1),
            strides: [0, 0, stride],
        }
    }

    /// `outer * mid * inner` indices with the given digit strides.
    fn digits(outer: usize, mid: usize, inner: usize, strides: [isize; 3]) -> Self {
        Axis {
            len: outer * mid * inner,
            mid: mid.max(1),
            inner: inner.max(1),
            strides,
        }
    }

    /// The stride between neighbours, when the axis is one evenly strided run: a single digit,
    /// or digits whose strides line up (a wide view of one plane, say).
    #[inline(always)]
    pub fn uniform_stride(&self) -> Option<isize> {
        let [s0, s1, s2] = self.strides;
        let mid_fits = self.len <= self.inner || s1 == self.inner as isize * s2;
        let outer_fits = self.len <= self.mid * self.inner || s0 == self.mid as isize * s1;
        (mid_fits && outer_fits).then_some(s2)
    }

    /// Memory offset of index `i`.
    #[inline(always)]
    pub fn offset(&self, i: usize) -> isize {
        let (hi, inner) = (i / self.inner, i % self.inner);
        (hi / self.mid) as isize * self.strides[0]
            + (hi % self.mid) as isize * self.strides[1]
            + inner as isize * self.strides[2]
    }

    /// Offsets of indices `i0..i0 + out.len()`, walking the digits without a division per index.
    #[inline(always)]
    pub fn offsets(&self, i0: usize, out: &mut [isize]) {
        let (hi, mut inner) = (i0 / self.inner, i0 % self.inner);
        let (mut outer, mut mid) = (hi / self.mid, hi % self.mid);
        let [s0, s1, s2] = self.strides;
        for o in out {
            *o = outer as isize * s0 + mid as isize * s1 + inner as isize * s2;
            inner += 1;
            if inner == self.inner {
                inner = 0;
                mid += 1;
                if mid == self.mid {
                    mid = 0;
                    outer += 1;
                }
            }
        }
    }
}

/// Element addressing of one operand (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub rows: Axis,
    pub cols: Axis,
}

impl Layout {
    /// A `rows x cols` matrix with strides `[row, col]`.
    pub fn matrix(rows: usize, cols: usize, strides: &[isize]) -> Self {
        Layout {
            rows: Axis::strided(rows, strides[0]),
            cols: Axis::strided(cols, strides[1]),
        }
    }

    fn wide(shape: &[usize], strides: &[isize]) -> Self {
        Layout {
            rows: Axis::strided(shape[1], strides[1]),
            cols: Axis::digits(shape[0], 1, shape[2], [strides[0], 0, strides[2]]),
        }
    }

    /// The unfolded view of an unpadded NCHW batch (see [`MatRef::im2col`]).
    fn im2col(
        op: &'static str,
        shape: &[usize],
        strides: &[isize],
        win: &Window2d,
    ) -> Result<Self> {
        if win.pad_top + win.pad_left + win.pad_bottom + win.pad_right != 0 {
            return Err(TensorError::invalid(
                op,
                "window",
                format!("{win:?}"),
                "is padded; unfold padded inputs with im2col_wide",
            ));
        }
        crate::conv::check_plane(op, shape, win)?;
        let [n, c] = [shape[0], shape[1]];
        let s = strides;
        let (sh, sw) = (win.stride_h as isize, win.stride_w as isize);
        Ok(Layout {
            rows: Axis::digits(c, win.kernel_h, win.kernel_w, [s[1], s[2], s[3]]),
            cols: Axis::digits(n, win.out_h, win.out_w, [s[0], sh * s[2], sw * s[3]]),
        })
    }

    /// The layout of the transposed matrix.
    pub fn transposed(self) -> Self {
        Layout {
            rows: self.cols,
            cols: self.rows,
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

// SAFETY: a MatRef stands for the shared borrow `&'a [f32]` its constructors take from an
// ndarray view (`_borrow` keeps it alive); it only ever reads through `ptr`, and `&[f32]` is
// Send.
unsafe impl Send for MatRef<'_> {}
// SAFETY: as for Send: shared access only reads, and `&[f32]` is Sync.
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

    /// The unfolded (im2col) view of an unpadded NCHW batch `x` `[N, C, H, W]` under `win`: the
    /// matrix `[C * KH * KW, N * OH * OW]` whose row `(c, ky, kx)` and column `(n, oy, ox)` hold
    /// `x[n, c, oy * stride_h + ky, ox * stride_w + kx]`, read where it lies.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for a padded window (its cells are not in `x`), and
    /// [`TensorError::ShapeMismatch`] when `x`'s planes are not the window's input.
    ///
    /// ```
    /// use neurite_tensor::{MatRef, Padding, Window2d};
    /// let x = ndarray::Array4::<f32>::zeros((2, 3, 5, 5));
    /// let win = Window2d::new((5, 5), (3, 3), (1, 1), Padding::Valid).unwrap();
    /// let cols = MatRef::im2col(x.view(), &win).unwrap();
    /// assert_eq!(cols.dim(), (27, 18));
    /// ```
    pub fn im2col(x: ArrayView4<'a, f32>, win: &Window2d) -> Result<Self> {
        let layout = Layout::im2col("MatRef::im2col", x.shape(), x.strides(), win)?;
        Ok(MatRef {
            ptr: x.as_ptr(),
            layout,
            _borrow: PhantomData,
        })
    }

    /// The transpose, read where it lies.
    pub fn t(self) -> Self {
        MatRef {
            layout: self.layout.transposed(),
            ..self
        }
    }

    /// `(rows, cols)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.layout.rows.len, self.layout.cols.len)
    }
}

/// A writable GEMM output: a matrix view, or the wide view of a batch of planes.
#[derive(Debug)]
pub struct MatMut<'a> {
    pub(crate) ptr: *mut f32,
    pub(crate) layout: Layout,
    /// For an output whose elements overlap in memory ([`MatMut::col2im`]): the columns of one
    /// sample, which must stay in one task.
    pub(crate) overlap: Option<usize>,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: a MatMut stands for the unique borrow `&'a mut [f32]` its constructors take from an
// ndarray view, and `&mut [f32]` is Send: moving it to another thread moves the only access.
unsafe impl Send for MatMut<'_> {}
// SAFETY: `&MatMut` gives no access to the data (no method reads or writes through `ptr`
// from a shared reference); only `sgemm`, which takes the MatMut by value, writes through it,
// handing each task a disjoint set of its elements.
unsafe impl Sync for MatMut<'_> {}

impl<'a> MatMut<'a> {
    /// A writable matrix view with any strides.
    pub fn new(mut view: ArrayViewMut2<'a, f32>) -> Self {
        let (rows, cols) = view.dim();
        let layout = Layout::matrix(rows, cols, view.strides());
        MatMut {
            ptr: view.as_mut_ptr(),
            layout,
            overlap: None,
            _borrow: PhantomData,
        }
    }

    /// A batch of planes `[N, R, P]` written as the matrix `[R, N * P]`.
    pub fn wide(mut view: ArrayViewMut3<'a, f32>) -> Self {
        let layout = Layout::wide(view.shape(), view.strides());
        MatMut {
            ptr: view.as_mut_ptr(),
            layout,
            overlap: None,
            _borrow: PhantomData,
        }
    }

    /// The unfolded (im2col) view of an unpadded NCHW input gradient `d_x` `[N, C, H, W]`,
    /// written by adding: element `(ky, kx, c), (n, oy, ox)` adds into `d_x[n, c, oy *
    /// stride_h + ky, ox * stride_w + kx]`. A convolution's `W^T d_Z` lands in its input
    /// gradient as it leaves the registers (col2im), with no unfolded matrix in between.
    ///
    /// The rows run over the channels innermost (unlike [`MatRef::im2col`]), so the rows of a
    /// register tile fall in different planes: neighbouring windows share input cells, and
    /// rows `(c, ky, kx)` and `(c, ky, kx + 1)` one after the other would each wait for the
    /// other's store. Several elements add into one cell, so [`sgemm`] accepts this output
    /// only with `beta = 1` and no bias or activation, and keeps each sample's columns in one
    /// task, split by the sizes alone, so the sums are made in the same order for any thread
    /// count.
    ///
    /// # Errors
    /// As [`MatRef::im2col`].
    ///
    /// ```
    /// use neurite_tensor::{Epilogue, MatMut, MatRef, Padding, Window2d, sgemm};
    /// // One 1x1 filter of weight 1 over a 2x2 window: d_x counts the windows of each cell.
    /// let win = Window2d::new((3, 3), (2, 2), (1, 1), Padding::Valid).unwrap();
    /// let w_t = ndarray::Array2::<f32>::ones((4, 1));
    /// let d_z = ndarray::Array2::<f32>::ones((1, 4));
    /// let mut d_x = ndarray::Array4::<f32>::zeros((1, 1, 3, 3));
    /// let c = MatMut::col2im(d_x.view_mut(), &win).unwrap();
    /// let add = Epilogue::default().beta(1.0);
    /// sgemm(MatRef::new(w_t.view()), MatRef::new(d_z.view()), c, add).unwrap();
    /// assert_eq!(d_x.into_raw_vec_and_offset().0, [1., 2., 1., 2., 4., 2., 1., 2., 1.]);
    /// ```
    ///
    /// [`sgemm`]: crate::sgemm()
    pub fn col2im(mut d_x: ArrayViewMut4<'a, f32>, win: &Window2d) -> Result<Self> {
        let mut layout = Layout::im2col("MatMut::col2im", d_x.shape(), d_x.strides(), win)?;
        let (c, s) = (d_x.shape()[1], d_x.strides());
        layout.rows = Axis::digits(win.kernel_h, win.kernel_w, c, [s[2], s[3], s[1]]);
        Ok(MatMut {
            ptr: d_x.as_mut_ptr(),
            layout,
            overlap: Some(win.out_len()),
            _borrow: PhantomData,
        })
    }

    /// `(rows, cols)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.layout.rows.len, self.layout.cols.len)
    }
}
