//! The convolution as one GEMM over the whole batch: forward and backward side by side.
//!
//! The batch is unfolded (im2col) into one wide matrix `cols` `[C * KH * KW, N * OH * OW]`, so
//! the forward is `W [F, C * KH * KW] x cols`, the weight gradient `d_Z cols^T` and the input
//! gradient `col2im(W^T d_Z)`, each a single large product split over every thread. (One
//! product per sample leaves the kernel starved on small planes: 9 columns in the reference
//! CNN's third convolution.)
//!
//! For f32 the forward writes its NCHW output straight from the GEMM's registers, bias and ReLU
//! applied on the way ([`sgemm`] with a wide output). Without padding it does not unfold the
//! input at all: the GEMM packs the columns of `cols` straight from `x` ([`MatRef::im2col`]),
//! in forward and again for the weight gradient (training keeps a copy of `x`, a ninth of
//! `cols` for a 3x3 window). Padded windows, other types and other activations take the
//! generic route: `cols` written out, a `[F, N * OH * OW]` product, scattered to NCHW with the
//! bias, then the activation. In backward the ReLU derivative is applied while the output
//! gradient is gathered into the `[F, N * OH * OW]` layout the products read, so it costs no
//! pass of its own, and for f32 without padding the input gradient's product adds straight
//! into `d_x` ([`MatMut::col2im`]): no unfolded gradient, no col2im pass.

use ndarray::parallel::prelude::*;
use ndarray::{
    Array2, Array4, ArrayView1, ArrayView2, ArrayView4, ArrayViewMut1, ArrayViewMut2, Axis, Zip,
};
use neurite_tensor::{
    Bias, Epilogue, Float, MatMut, MatRef, Result, Transpose, Window2d, col2im_wide, gemm,
    im2col_wide, sgemm,
};

use crate::Activation;

/// Sizes of one batch through the layer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Filters (output channels).
    pub f: usize,
    /// The window over one input plane.
    pub win: Window2d,
}

impl Geometry {
    /// Rows of the unfolded input: `C * KH * KW`.
    fn ckk(&self) -> usize {
        self.c * self.win.kernel_len()
    }

    /// Output positions per plane: `OH * OW`.
    fn p(&self) -> usize {
        self.win.out_len()
    }

    fn output(&self) -> (usize, usize, usize, usize) {
        (self.n, self.f, self.win.out_h, self.win.out_w)
    }
}

/// Where the weight gradient finds the unfolded input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unfolded {
    /// In `cols`, written out by `im2col_wide`.
    Written,
    /// Read in place from the copy of the input in `x`.
    InPlace,
}

/// The buffers one batch needs, sized on first use and kept while the batch size stays.
pub(super) struct Buffers<F: Float> {
    /// Which of `cols` and `x` holds the unfolded input of the last forward.
    unfolded: Unfolded,
    /// Unfolded input `[C * KH * KW, N * OH * OW]`, kept for the weight gradient.
    pub cols: Array2<F>,
    /// The input `[N, C, H, W]`, kept for the weight gradient when it is read in place.
    pub x: Array4<F>,
    /// The product `[F, N * OH * OW]` (generic forward), or the output gradient in that layout.
    pub wide: Array2<F>,
    /// Pre-activation `[N, F, OH, OW]`, when backward needs it (not for ReLU or linear in f32).
    pub z: Array4<F>,
    /// Output `[N, F, OH, OW]`.
    pub y: Array4<F>,
    /// Gradient w.r.t. the pre-activation, for activations other than ReLU and linear.
    pub d_z: Array4<F>,
    /// `W^T d_Z` `[C * KH * KW, N * OH * OW]` (generic backward).
    pub d_cols: Array2<F>,
    /// `W^T` with its rows in the order `(ky, kx, c)` of [`MatMut::col2im`] (f32 backward).
    pub w_t: Array2<F>,
    /// Input gradient `[N, C, H, W]`.
    pub d_x: Array4<F>,
}

impl<F: Float> Default for Buffers<F> {
    fn default() -> Self {
        Buffers {
            unfolded: Unfolded::Written,
            cols: Array2::zeros((0, 0)),
            x: Array4::zeros((0, 0, 0, 0)),
            wide: Array2::zeros((0, 0)),
            z: Array4::zeros((0, 0, 0, 0)),
            y: Array4::zeros((0, 0, 0, 0)),
            d_z: Array4::zeros((0, 0, 0, 0)),
            d_cols: Array2::zeros((0, 0)),
            w_t: Array2::zeros((0, 0)),
            d_x: Array4::zeros((0, 0, 0, 0)),
        }
    }
}

/// Reallocates `buf` only when its shape changes; the contents are then unspecified.
pub(super) fn resize<F: Float, D: ndarray::Dimension>(buf: &mut ndarray::Array<F, D>, dim: D) {
    if buf.raw_dim() != dim {
        *buf = ndarray::Array::zeros(dim);
    }
}

/// `y = act(conv(x, W) + b)` into `bufs.y`, keeping what backward needs when `train`: the
/// unfolded input (or `x` itself), and `z` for activations other than ReLU and linear.
///
/// # Shapes
/// `x` `[N, C, H, W]`, `weight` `[F, C * KH * KW]`, `bias` `[F]`.
pub(super) fn forward<F: Float>(
    g: &Geometry,
    x: ArrayView4<'_, F>,
    weight: ArrayView2<'_, F>,
    bias: Option<ArrayView1<'_, F>>,
    act: Activation,
    train: bool,
    bufs: &mut Buffers<F>,
) -> Result<()> {
    resize(&mut bufs.y, ndarray::Dim(g.output()));
    // ReLU and linear outputs are written by the GEMM itself; others go through z.
    let direct = matches!(act, Activation::Linear | Activation::Relu);
    if !direct {
        resize(&mut bufs.z, ndarray::Dim(g.output()));
    }
    let out = if direct { &mut bufs.y } else { &mut bufs.z };
    let out3 = out
        .view_mut()
        .into_shape_with_order((g.n, g.f, g.p()))
        .expect("standard layout");
    let in_place = F::as_f32(x).and_then(|x| MatRef::im2col(x, &g.win).ok());
    let fused = (F::as_f32(weight), in_place, F::as_f32_mut(out3));
    if let (Some(w), Some(cols), Some(out)) = fused {
        let bias = bias.map(|b| F::as_f32(b).expect("f32 like the weight"));
        let bias = bias.as_ref().and_then(|b| b.as_slice());
        let epilogue = Epilogue::default()
            .bias(bias.map_or(Bias::None, Bias::Rows))
            .relu(act == Activation::Relu);
        sgemm(MatRef::new(w), cols, MatMut::wide(out), epilogue)?;
        bufs.unfolded = Unfolded::InPlace;
        if train {
            resize(&mut bufs.x, x.raw_dim());
            bufs.x.assign(&x);
        }
    } else {
        resize(&mut bufs.cols, ndarray::Dim([g.ckk(), g.n * g.p()]));
        im2col_wide(x, &g.win, bufs.cols.view_mut())?;
        bufs.unfolded = Unfolded::Written;
        let out = if direct { &mut bufs.y } else { &mut bufs.z };
        forward_generic(g, weight, bias, &bufs.cols, &mut bufs.wide, out)?;
        if act == Activation::Relu {
            out.mapv_inplace(relu);
        }
    }
    if !direct {
        act.forward(bufs.z.view().into_dyn(), bufs.y.view_mut().into_dyn())?;
    }
    Ok(())
}

fn relu<F: Float>(v: F) -> F {
    if v > F::zero() { v } else { F::zero() }
}

/// The product into `wide` `[F, N * P]`, then scattered to NCHW `out` with the bias added.
fn forward_generic<F: Float>(
    g: &Geometry,
    weight: ArrayView2<'_, F>,
    bias: Option<ArrayView1<'_, F>>,
    cols: &Array2<F>,
    wide: &mut Array2<F>,
    out: &mut Array4<F>,
) -> Result<()> {
    let (n, f, p) = (g.n, g.f, g.p());
    resize(wide, ndarray::Dim([f, n * p]));
    gemm(
        F::one(),
        weight,
        Transpose::No,
        cols.view(),
        Transpose::No,
        F::zero(),
        wide.view_mut(),
    )?;
    let wide = wide
        .view()
        .into_shape_with_order((f, n, p))
        .expect("[F, N*P]");
    let wide = wide.permuted_axes([1, 0, 2]);
    let z = out
        .view_mut()
        .into_shape_with_order((n, f, p))
        .expect("standard layout");
    match bias {
        Some(b) => {
            let b = b.into_shape_with_order((1, f, 1)).expect("[F]");
            let b = b.broadcast((n, f, p)).expect("broadcast [1, F, 1]");
            Zip::from(z)
                .and(&wide)
                .and(&b)
                .par_for_each(|z, &v, &b| *z = v + b);
        }
        None => Zip::from(z).and(&wide).par_for_each(|z, &v| *z = v),
    }
    Ok(())
}

/// Accumulates `d_w` (and `d_b`) and, when `d_x_wanted`, writes `bufs.d_x`, from the gradient
/// w.r.t. the output (`from_logits`: w.r.t. the pre-activation).
///
/// # Shapes
/// `d_y` `[N, F, OH, OW]`, `weight` and `d_w` `[F, C * KH * KW]`, `d_b` `[F]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<F: Float>(
    g: &Geometry,
    d_y: ArrayView4<'_, F>,
    weight: ArrayView2<'_, F>,
    act: Activation,
    from_logits: bool,
    d_x_wanted: bool,
    d_w: ArrayViewMut2<'_, F>,
    d_b: Option<ArrayViewMut1<'_, F>>,
    bufs: &mut Buffers<F>,
) -> Result<()> {
    let (ckk, np) = (g.ckk(), g.n * g.p());
    let relu = act == Activation::Relu && !from_logits;
    let d_z = if from_logits || matches!(act, Activation::Linear | Activation::Relu) {
        d_y
    } else {
        resize(&mut bufs.d_z, ndarray::Dim(g.output()));
        act.backward(
            bufs.z.view().into_dyn(),
            bufs.y.view().into_dyn(),
            d_y.into_dyn(),
            bufs.d_z.view_mut().into_dyn(),
        )?;
        bufs.d_z.view()
    };
    resize(&mut bufs.wide, ndarray::Dim([g.f, np]));
    // Copies only if the caller passed a non-standard layout.
    let d_z = d_z.as_standard_layout();
    gather(
        g,
        d_z.view(),
        relu.then_some(bufs.y.view()),
        bufs.wide.view_mut(),
        d_b,
    );
    let wide = bufs.wide.view();
    match bufs.unfolded {
        Unfolded::InPlace => {
            let f32s = (
                F::as_f32(wide),
                F::as_f32(bufs.x.view()),
                F::as_f32_mut(d_w),
            );
            let (Some(wide), Some(x), Some(d_w)) = f32s else {
                unreachable!("the unfolded input is read in place only for f32");
            };
            let cols = MatRef::im2col(x, &g.win)?;
            let accumulate = Epilogue::default().beta(1.0);
            if g.ckk() < g.f {
                // d_W^T = cols d_Z^T: the short side (9 window cells of a first convolution
                // against 32 filters) takes the kernel's 8 rows, not its 32 columns, which
                // would leave 23 of them empty.
                let d_w_t = MatMut::new(d_w.reversed_axes());
                sgemm(cols, MatRef::new(wide).t(), d_w_t, accumulate)?;
            } else {
                sgemm(MatRef::new(wide), cols.t(), MatMut::new(d_w), accumulate)?;
            }
        }
        Unfolded::Written => gemm(
            F::one(),
            wide,
            Transpose::No,
            bufs.cols.view(),
            Transpose::Yes,
            F::one(),
            d_w,
        )?,
    }
    if d_x_wanted {
        resize(
            &mut bufs.d_x,
            ndarray::Dim([g.n, g.c, g.win.in_h, g.win.in_w]),
        );
        bufs.d_x.fill(F::zero());
        if !fold_in_registers(g, weight, wide, &mut bufs.w_t, &mut bufs.d_x)? {
            resize(&mut bufs.d_cols, ndarray::Dim([ckk, np]));
            gemm(
                F::one(),
                weight,
                Transpose::Yes,
                wide,
                Transpose::No,
                F::zero(),
                bufs.d_cols.view_mut(),
            )?;
            col2im_wide(bufs.d_cols.view(), &g.win, bufs.d_x.view_mut())?;
        }
    }
    Ok(())
}

/// `d_x += col2im(W^T d_Z)` with the f32 GEMM adding each product into `d_x` as it leaves the
/// registers ([`MatMut::col2im`]), so the unfolded gradient `[C * KH * KW, N * OH * OW]` (8.9
/// MB for the reference CNN's second convolution) is never written. Returns false, doing
/// nothing, for other types and for padded windows.
fn fold_in_registers<F: Float>(
    g: &Geometry,
    weight: ArrayView2<'_, F>,
    wide: ArrayView2<'_, F>,
    w_t: &mut Array2<F>,
    d_x: &mut Array4<F>,
) -> Result<bool> {
    let (Some(wide), Some(d_x)) = (F::as_f32(wide), F::as_f32_mut(d_x.view_mut())) else {
        return Ok(false);
    };
    let Ok(d_x) = MatMut::col2im(d_x, &g.win) else {
        return Ok(false);
    };
    // W^T with its rows in the output's order (ky, kx, c): row (k, ci) is column (ci, k) of W.
    let (kk, c) = (g.win.kernel_len(), g.c);
    resize(w_t, ndarray::Dim([g.ckk(), g.f]));
    for (r, mut row) in w_t.rows_mut().into_iter().enumerate() {
        row.assign(&weight.column(r % c * kk + r / c));
    }
    let w_t = F::as_f32(w_t.view()).expect("f32 like the gradient");
    let add = Epilogue::default().beta(1.0);
    sgemm(MatRef::new(w_t), MatRef::new(wide), d_x, add)?;
    Ok(true)
}

/// Gathers the NCHW gradient `d_z` into `wide` `[F, N * P]`, through ReLU's derivative when
/// `relu_output` is given (`y > 0` exactly where `z > 0`), and adds each row's sum to the bias
/// gradient while the row is in cache. One task per filter: a row is the filter's plane of
/// every sample, copied plane by plane.
fn gather<F: Float>(
    g: &Geometry,
    d_z: ArrayView4<'_, F>,
    relu_output: Option<ArrayView4<'_, F>>,
    mut wide: ArrayViewMut2<'_, F>,
    d_b: Option<ArrayViewMut1<'_, F>>,
) {
    let p = g.p();
    let d_z = d_z.as_slice().expect("standard layout");
    let y = relu_output.map(|y| y.to_slice().expect("the layer's own output"));
    let plane = |n: usize, f: usize| (n * g.f + f) * p..(n * g.f + f + 1) * p;
    let gather_row = |f: usize, mut row: ArrayViewMut1<'_, F>| {
        let row = row.as_slice_mut().expect("rows of a standard array");
        for (n, dst) in row.chunks_exact_mut(p).enumerate() {
            let src = &d_z[plane(n, f)];
            match y {
                Some(y) => {
                    let y = &y[plane(n, f)];
                    for ((w, &d), &y) in dst.iter_mut().zip(src).zip(y) {
                        *w = if y > F::zero() { d } else { F::zero() };
                    }
                }
                None => dst.copy_from_slice(src),
            }
        }
    };
    let rows = wide.axis_iter_mut(Axis(0)).into_par_iter().enumerate();
    match d_b {
        Some(d_b) => {
            let d_b = d_b.into_slice().expect("a bias gradient is contiguous");
            rows.zip(d_b.par_iter_mut())
                .for_each(|((f, mut row), d_b)| {
                    gather_row(f, row.view_mut());
                    *d_b += row.sum();
                })
        }
        None => rows.for_each(|(f, row)| gather_row(f, row)),
    }
}
