//! A 3x3 stride-1 convolution by Winograd's F(2x2, 3x3): forward and backward, f32.
//!
//! A direct (im2col) convolution spends 36 multiply-adds per input and output channel on every
//! 2x2 block of output; F(2x2, 3x3) spends 16. Every 4x4 input tile (tiles overlap by two) is
//! transformed to 16 values `V = B^T d B`, every filter to 16 values `U = G g G^T`, and for each
//! of the 16 positions `xi` the products of all tiles and filters form one GEMM,
//! `M[xi] = V[xi] U[xi]` (`[tiles, C] x [C, F]`). The output transform `A^T M A` gives each
//! tile's 2x2 outputs, with the bias and ReLU applied on the way (see `transform.rs`).
//!
//! Backward runs the same three stages transposed. The output gradient, through ReLU's
//! derivative, is brought to the product domain once (`dM = A dY A^T`) and serves both
//! gradients: `dV[xi] = dM[xi] U[xi]^T` goes back through `B dV B^T` into the input gradient
//! (tiles added where they overlap), and `dU[xi] = V[xi]^T dM[xi]` through `G^T dU G` into the
//! weight gradient, reading the `V` that forward kept.
//!
//! Layout: the transforms vectorise across channels, so the input is copied into NHWC planes
//! (the padding is read as a vector of zeros), and `V` and `M` hold one row of channels per tile. The batch is cut into
//! chunks of whole samples, sized from the tile count alone, which run in parallel from the
//! input copy to the output transform, each staying in cache; every sum runs in an order fixed
//! by the sizes, so results do not depend on the thread count. They do differ from the direct
//! convolution's by rounding (the transforms add and subtract before multiplying).

mod chunk;
mod dispatch;
mod planes;
mod product;
mod transform;

use ndarray::{ArrayView2, ArrayView4, ArrayViewMut2, ArrayViewMut4};
use rayon::prelude::*;

use crate::conv::check_conv_args;
use crate::pool::contiguous_mut;
use crate::sgemm::Kernel;
use crate::{Result, TensorError, Window2d};
use chunk::{ChunkBackward, ChunkForward, WeightGrad};
use dispatch::on_kernel;
use transform::{filter_tile, filter_tile_adjoint};

const OP: &str = "winograd_conv";

/// Transform values per tile: the 4x4 of F(2x2, 3x3).
pub(super) const XI: usize = 16;

/// Tiles a chunk of samples should hold at least: enough rows for the GEMMs to fill their
/// register tiles, few enough for a chunk's transforms and products to stay in L2.
const CHUNK_TILES: usize = 128;

/// Chunks an inference pass holds buffers for: enough to keep eight threads busy.
const INFERENCE_SLOTS: usize = 8;

/// A 3x3 stride-1 convolution + bias (+ ReLU) by Winograd's F(2x2, 3x3), f32, holding its
/// buffers and what backward needs between the two passes.
///
/// ```
/// use ndarray::{Array2, Array4};
/// use neurite_tensor::{Padding, Window2d, Winograd};
/// let win = Window2d::new((6, 6), (3, 3), (1, 1), Padding::Valid).unwrap();
/// let x = Array4::<f32>::ones((1, 1, 6, 6));
/// let weight = Array2::<f32>::from_elem((2, 9), 0.5); // [F, C * 3 * 3]
/// let mut y = Array4::<f32>::zeros((1, 2, 4, 4));
/// let mut conv = Winograd::default();
/// conv.forward(x.view(), weight.view(), Some(&[0.0, -10.0]), true, &win, y.view_mut(), false)
///     .unwrap();
/// assert!(y.iter().take(16).all(|&v| v == 4.5));
/// assert!(y.iter().skip(16).all(|&v| v == 0.0)); // 4.5 - 10 is cut by ReLU
/// ```
#[derive(Debug, Default)]
pub struct Winograd {
    /// The transformed filters `[16, C, F]`.
    u: Vec<f32>,
    /// The same, transposed: `[16, F, C]`.
    ut: Vec<f32>,
    /// The input in NHWC planes `[N, H, W, C]`; in backward, the input gradient.
    nhwc_in: Vec<f32>,
    /// The output in NHWC planes `[N, OH, OW, F]`; in backward, the output gradient.
    nhwc_out: Vec<f32>,
    /// Transformed input tiles, per chunk `[16, R, C]` (R tile rows per chunk, each position
    /// [`Geometry::v_stride`] floats from the next).
    v: Vec<f32>,
    /// Products per chunk `[16, R, F]`; in backward, the transformed output gradient.
    m: Vec<f32>,
    /// The input-domain gradient per chunk `[16, R, C]`.
    dv: Vec<f32>,
    /// One sample's output gradient through ReLU's derivative per chunk `[chunks, F, OH, OW]`.
    masked: Vec<f32>,
    /// What tiles read where they reach past the data: `max(C, F)` zeros.
    zeros: Vec<f32>,
    /// Where tiles write what falls past the data, per chunk `[chunks, max(C, F)]`.
    sink: Vec<f32>,
    /// The transformed weight gradient `[16, C, F]`.
    du: Vec<f32>,
    /// The bias gradient of each chunk `[chunks, F]`.
    d_bias: Vec<f32>,
    /// Pooled: which cell of each window won, `[N, PH, PW, F]` (see [`Winograd::winners`]).
    winners: Vec<f32>,
    /// The weights `u` and `ut` are the transform of; empty while they hold none. Inference
    /// runs one chunk after another with the same weights, and transforming them again for
    /// every chunk of 12 samples took an eighth of the pass.
    filters_of: Vec<f32>,
    /// The sizes the buffers are laid out for.
    layout: Option<Geometry>,
    /// The sizes of the last training forward, whose `v` is kept.
    trained: Option<Geometry>,
    /// The instruction set asked for (`None`: the fastest, [`Kernel::best`]).
    kernel: Option<Kernel>,
}

/// The sizes of one batch and of its tiles and chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Geometry {
    n: usize,
    c: usize,
    f: usize,
    win: Window2d,
    /// Tile rows and columns: half the output's, rounded up; rounded down when pooled (a
    /// 2x2 stride-2 max pool drops an odd last row or column, so no tile computes it).
    th: usize,
    tw: usize,
    /// Whether each tile's 2x2 outputs are max-pooled (after ReLU) into one.
    pool: bool,
    /// Samples per chunk.
    chunk: usize,
    /// Chunks whose buffers exist at once: all of them in training (backward reads every
    /// chunk's `v`), at most [`INFERENCE_SLOTS`] in inference, which goes through a large
    /// batch a few chunks at a time so that its buffers do not grow with it.
    slots: usize,
    kernel: Kernel,
}

impl Geometry {
    fn new(
        n: usize,
        c: usize,
        f: usize,
        win: Window2d,
        kernel: Kernel,
        pool: bool,
        train: bool,
    ) -> Self {
        let (th, tw) = match pool {
            true => (win.out_h / 2, win.out_w / 2),
            false => (win.out_h.div_ceil(2), win.out_w.div_ceil(2)),
        };
        let chunk = CHUNK_TILES.div_ceil((th * tw).max(1)).clamp(1, n.max(1));
        let chunks = n.div_ceil(chunk);
        Geometry {
            n,
            c,
            f,
            win,
            th,
            tw,
            pool,
            chunk,
            slots: match train {
                true => chunks,
                false => chunks.min(INFERENCE_SLOTS),
            },
            kernel,
        }
    }

    /// The output of a batch: `[N, F, OH, OW]`, or `[N, F, OH / 2, OW / 2]` pooled.
    fn out_shape(&self) -> [usize; 4] {
        match self.pool {
            true => [self.n, self.f, self.th, self.tw],
            false => [self.n, self.f, self.win.out_h, self.win.out_w],
        }
    }

    /// Cells of one output plane.
    fn out_cells(&self) -> usize {
        let [_, _, h, w] = self.out_shape();
        h * w
    }

    fn tiles(&self) -> usize {
        self.th * self.tw
    }

    /// Tile rows of a chunk's `v` and `m` (the last chunk may use fewer).
    fn rows(&self) -> usize {
        self.chunk * self.tiles()
    }

    /// Floats between the transform positions of a chunk's `v` (and `dv`): its rows of C, and
    /// a skew of one cache line past a multiple of 4 KiB. Blocks a multiple of 4 KiB apart
    /// would map the 16 positions of a tile, which the transforms read or write together, to
    /// the same L1 set (the reference CNN's 144 x 64 floats of `m` are exactly 36 KiB).
    fn v_stride(&self) -> usize {
        skewed(self.block_rows() * self.c)
    }

    /// [`Geometry::v_stride`] for the rows of F of `m`.
    fn m_stride(&self) -> usize {
        skewed(self.block_rows() * self.f)
    }

    /// Rows of each transform position's block of `v` and `m`: [`Geometry::rows`] rounded up
    /// to the register tile, so that the products run whole tiles only. The general sgemm
    /// that would take the last few rows packs both operands first, which cost as much as the
    /// micro-kernel's work on a whole chunk. Nothing reads what the extra rows hold.
    fn block_rows(&self) -> usize {
        self.rows().next_multiple_of(self.kernel.tile().0)
    }

    fn chunks(&self) -> usize {
        self.n.div_ceil(self.chunk)
    }

    fn in_len(&self) -> usize {
        self.c * self.win.in_h * self.win.in_w
    }

    fn out_len(&self) -> usize {
        self.f * self.out_cells()
    }

    /// Floats of the zero vector and of each chunk's sink.
    fn edge_len(&self) -> usize {
        self.c.max(self.f)
    }

    fn weight_shape(&self) -> [usize; 2] {
        [self.f, self.c * 9]
    }
}

/// The layer's parameters and window, as forward takes them.
struct Layer<'a, 'w> {
    weight: ArrayView2<'a, f32>,
    bias: Option<&'a [f32]>,
    win: &'w Window2d,
}

/// Where forward writes: the convolution's output, or its pooled output.
enum Output<'a> {
    Plain {
        relu: bool,
        y: ArrayViewMut4<'a, f32>,
    },
    Pooled {
        pooled: ArrayViewMut4<'a, f32>,
    },
}

/// What backward adds to or writes.
struct Grads<'a, 'b> {
    d_w: ArrayViewMut2<'a, f32>,
    d_b: Option<&'b mut [f32]>,
    d_x: Option<ArrayViewMut4<'a, f32>>,
}

/// A shape error unless `got` is `want`.
fn want(what: &str, got: &[usize], want: &[usize]) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        let detail = format!("{what} is {got:?}, expected {want:?}");
        Err(TensorError::mismatch(OP, detail))
    }
}

/// `len` rounded up to whole 4 KiB pages of floats, plus one 64-byte line.
fn skewed(len: usize) -> usize {
    len.next_multiple_of(1024) + 16
}

impl Winograd {
    /// An operation that runs `kernel`'s instruction set (tests and benchmarks compare them);
    /// one this CPU lacks falls back to [`Kernel::best`].
    pub fn with_kernel(kernel: Kernel) -> Self {
        Winograd {
            kernel: Some(kernel),
            ..Winograd::default()
        }
    }

    /// Whether the window is one this operation computes: 3x3, stride 1, any padding.
    pub fn supports(win: &Window2d) -> bool {
        (win.kernel_h, win.kernel_w, win.stride_h, win.stride_w) == (3, 3, 1, 1)
    }

    /// Whether it is worth it: a supported window whose tiles need at most 60 % of the direct
    /// convolution's multiplications (odd output sizes waste part of the last tiles; a 3x3
    /// output needs 64 against 81), with channels and filters enough to fill vectors.
    pub fn pays_off(win: &Window2d, channels: usize, filters: usize) -> bool {
        let tiles = win.out_h.div_ceil(2) * win.out_w.div_ceil(2);
        Self::supports(win)
            && channels >= 8
            && filters >= 8
            && 16 * tiles * 10 <= 6 * 9 * win.out_len()
    }

    /// `y = conv(x, weight) + bias`, through ReLU when `relu`, keeping the transformed input
    /// for [`Winograd::backward`] when `train`.
    ///
    /// # Shapes
    /// `x` `[N, C, H, W]`, `weight` `[F, C * 3 * 3]` (columns in `(c, ky, kx)` order), `bias`
    /// `[F]`, `y` `[N, F, OH, OW]` (contiguous).
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for a window other than 3x3 with stride 1,
    /// [`TensorError::ShapeMismatch`] for shapes that do not fit together.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &mut self,
        x: ArrayView4<'_, f32>,
        weight: ArrayView2<'_, f32>,
        bias: Option<&[f32]>,
        relu: bool,
        win: &Window2d,
        y: ArrayViewMut4<'_, f32>,
        train: bool,
    ) -> Result<()> {
        let layer = Layer { weight, bias, win };
        self.run_forward(x, layer, Output::Plain { relu, y }, train)
    }

    /// `pooled = max_pool_2x2(relu(conv(x, weight) + bias))` (2x2 windows, stride 2), keeping
    /// the transformed input and each window's winner for [`Winograd::backward_pooled`] when
    /// `train`. Only the tiles under a pooling window are computed: an odd last output row or
    /// column, which the pool drops, costs nothing.
    ///
    /// # Shapes
    /// As [`Winograd::forward`], with `pooled` `[N, F, OH / 2, OW / 2]` (contiguous).
    ///
    /// # Errors
    /// As [`Winograd::forward`].
    pub fn forward_pooled(
        &mut self,
        x: ArrayView4<'_, f32>,
        weight: ArrayView2<'_, f32>,
        bias: Option<&[f32]>,
        win: &Window2d,
        pooled: ArrayViewMut4<'_, f32>,
        train: bool,
    ) -> Result<()> {
        let layer = Layer { weight, bias, win };
        self.run_forward(x, layer, Output::Pooled { pooled }, train)
    }

    fn run_forward(
        &mut self,
        x: ArrayView4<'_, f32>,
        layer: Layer<'_, '_>,
        mut out: Output<'_>,
        train: bool,
    ) -> Result<()> {
        let Layer { weight, bias, win } = layer;
        if !Self::supports(win) {
            let window = format!(
                "{}x{} stride {:?}",
                win.kernel_h,
                win.kernel_w,
                (win.stride_h, win.stride_w)
            );
            return Err(TensorError::invalid(
                OP,
                "window",
                window,
                "must be 3x3, stride 1",
            ));
        }
        let (n, c, f) = check_conv_args(OP, x.shape(), weight.shape(), bias, win)?;
        let kernel = self.kernel.filter(|k| k.is_supported());
        let (pool, relu) = match out {
            Output::Plain { relu, .. } => (false, relu),
            Output::Pooled { .. } => (true, true),
        };
        let g = Geometry::new(
            n,
            c,
            f,
            *win,
            kernel.unwrap_or_else(Kernel::best),
            pool,
            train,
        );
        let y = match &mut out {
            Output::Plain { y, .. } => y,
            Output::Pooled { pooled } => pooled,
        };
        let y = contiguous_mut(OP, "the output", y, &g.out_shape())?;
        self.trained = None;
        self.lay_out(&g);
        if n == 0 || f == 0 || g.tiles() == 0 {
            y.fill(0.0);
            self.trained = train.then_some(g);
            return Ok(());
        }
        let weight = weight.as_standard_layout();
        let weight = weight.as_slice().expect("standard layout");
        if self.filters_of != weight {
            transform_filters(&g, weight, &mut self.u, &mut self.ut);
            self.filters_of.clear();
            self.filters_of.extend_from_slice(weight);
        }
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let (u, zeros) = (&self.u[..], &self.zeros[..]);
        let (chunk_in, chunk_out) = (g.chunk * g.in_len(), g.chunk * g.out_len());
        let mut winners: Vec<Option<&mut [f32]>> = match pool && train {
            true => self.winners.chunks_mut(chunk_out).map(Some).collect(),
            false => (0..g.chunks()).map(|_| None).collect(),
        };
        // One group of `slots` chunks after another (a single group in training).
        let groups = x
            .chunks(g.slots * chunk_in)
            .zip(y.chunks_mut(g.slots * chunk_out));
        for (group, (x, y)) in groups.enumerate() {
            let winners: Vec<_> = winners
                .iter_mut()
                .skip(group * g.slots)
                .take(g.slots)
                .map(|w| w.take())
                .collect();
            x.par_chunks(chunk_in)
                .zip(self.nhwc_in.par_chunks_mut(chunk_in))
                .zip(self.v.par_chunks_mut(XI * g.v_stride()))
                .zip(self.m.par_chunks_mut(XI * g.m_stride()))
                .zip(self.sink.par_chunks_mut(g.edge_len()))
                .zip(self.nhwc_out.par_chunks_mut(chunk_out))
                .zip(y.par_chunks_mut(chunk_out))
                .zip(winners)
                .for_each(
                    |(((((((x, nhwc_in), v), m), sink), nhwc_out), y), winners)| {
                        on_kernel(ChunkForward {
                            g: &g,
                            x,
                            nhwc_in,
                            v,
                            m,
                            u,
                            bias,
                            relu,
                            zeros,
                            sink,
                            nhwc_out,
                            y,
                            winners,
                        })
                    },
                );
        }
        self.trained = train.then_some(g);
        Ok(())
    }

    /// Adds the weight and bias gradients of the last training forward into `d_w` `[F, C * 3 *
    /// 3]` and `d_b` `[F]`, from the gradient of its output `d_y` `[N, F, OH, OW]` (through
    /// ReLU's derivative when `relu_output`, that forward's output, is given); writes the input
    /// gradient into `d_x` `[N, C, H, W]` when given.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] without a training [`Winograd::forward`],
    /// [`TensorError::ShapeMismatch`] for shapes other than that forward's.
    pub fn backward(
        &mut self,
        d_y: ArrayView4<'_, f32>,
        relu_output: Option<ArrayView4<'_, f32>>,
        d_w: ArrayViewMut2<'_, f32>,
        d_b: Option<&mut [f32]>,
        d_x: Option<ArrayViewMut4<'_, f32>>,
    ) -> Result<()> {
        let g = self.trained_for(false)?;
        let relu_output = match relu_output {
            Some(y) => {
                want("relu_output", y.shape(), &g.out_shape())?;
                Some(y.to_slice().ok_or_else(|| {
                    TensorError::mismatch(
                        OP,
                        "relu_output must be a contiguous standard-layout array",
                    )
                })?)
            }
            None => None,
        };
        self.run_backward(&g, d_y, relu_output, Grads { d_w, d_b, d_x })
    }

    /// [`Winograd::backward`] for a training [`Winograd::forward_pooled`], from the gradient
    /// of its pooled output `d_pooled` `[N, F, OH / 2, OW / 2]`, which reaches each window's
    /// winner.
    ///
    /// # Errors
    /// As [`Winograd::backward`].
    pub fn backward_pooled(
        &mut self,
        d_pooled: ArrayView4<'_, f32>,
        d_w: ArrayViewMut2<'_, f32>,
        d_b: Option<&mut [f32]>,
        d_x: Option<ArrayViewMut4<'_, f32>>,
    ) -> Result<()> {
        let g = self.trained_for(true)?;
        self.run_backward(&g, d_pooled, None, Grads { d_w, d_b, d_x })
    }

    /// Per pooled cell of the last training [`Winograd::forward_pooled`], which cell of its
    /// window won (`2 dy + dx`), or 4 where the window's maximum was zero (no gradient
    /// passes), in the order `[N, PH, PW, F]`. Empty otherwise.
    pub fn winners(&self) -> &[f32] {
        match self.trained {
            Some(g) if g.pool => &self.winners,
            _ => &[],
        }
    }

    /// The shape `[N, F, PH, PW]` of the last training [`Winograd::forward_pooled`]'s output,
    /// if any.
    pub fn pooled_shape(&self) -> Option<[usize; 4]> {
        self.trained.filter(|g| g.pool).map(|g| g.out_shape())
    }

    /// The geometry of the last training forward, if it was pooled as asked.
    fn trained_for(&self, pool: bool) -> Result<Geometry> {
        match self.trained {
            Some(g) if g.pool == pool => Ok(g),
            _ => Err(TensorError::invalid(
                OP,
                "state",
                "no training forward",
                match pool {
                    true => "run forward_pooled with train = true first",
                    false => "run forward with train = true first",
                },
            )),
        }
    }

    fn run_backward(
        &mut self,
        g: &Geometry,
        d_y: ArrayView4<'_, f32>,
        relu_output: Option<&[f32]>,
        grads: Grads<'_, '_>,
    ) -> Result<()> {
        let Grads { mut d_w, d_b, d_x } = grads;
        let g = *g;
        want("the output gradient", d_y.shape(), &g.out_shape())?;
        want("d_w", d_w.shape(), &g.weight_shape())?;
        if let Some(d_b) = &d_b {
            want("d_b", &[d_b.len()], &[g.f])?;
        }
        let d_w = d_w.as_slice_mut().ok_or_else(|| {
            TensorError::mismatch(OP, "d_w must be a contiguous standard-layout array")
        })?;
        let mut d_x = d_x;
        let d_x = match &mut d_x {
            Some(d_x) => {
                let shape = [g.n, g.c, g.win.in_h, g.win.in_w];
                Some(contiguous_mut(OP, "d_x", d_x, &shape)?)
            }
            None => None,
        };
        if g.n == 0 || g.f == 0 || g.tiles() == 0 {
            if let Some(d_x) = d_x {
                d_x.fill(0.0);
            }
            return Ok(());
        }
        let d_y = d_y.as_standard_layout();
        let d_y = d_y.as_slice().expect("standard layout");
        let chunk_out = g.chunk * g.out_len();
        let d_x_chunks: Vec<Option<&mut [f32]>> = match d_x {
            Some(d_x) => d_x.chunks_mut(g.chunk * g.in_len()).map(Some).collect(),
            None => (0..g.chunks()).map(|_| None).collect(),
        };
        let (ut, zeros) = (&self.ut[..], &self.zeros[..]);
        let winners = g.pool.then_some(&self.winners[..]);
        d_y.par_chunks(chunk_out)
            .zip(self.masked.par_chunks_mut(g.out_len()))
            .zip(self.nhwc_out.par_chunks_mut(chunk_out))
            .zip(self.m.par_chunks_mut(XI * g.m_stride()))
            .zip(self.dv.par_chunks_mut(XI * g.v_stride()))
            .zip(self.nhwc_in.par_chunks_mut(g.chunk * g.in_len()))
            .zip(self.sink.par_chunks_mut(g.edge_len()))
            .zip(self.d_bias.par_chunks_mut(g.f))
            .zip(d_x_chunks)
            .enumerate()
            .for_each(|(i, chunk)| {
                let ((((((((d_y, masked), nhwc_out), m), dv), nhwc_in), sink), d_bias), d_x) =
                    chunk;
                let range = i * chunk_out..i * chunk_out + d_y.len();
                on_kernel(ChunkBackward {
                    g: &g,
                    d_y,
                    relu_output: relu_output.map(|y| &y[range.clone()]),
                    winners: winners.map(|w| &w[range.clone()]),
                    masked,
                    nhwc_out,
                    m,
                    ut,
                    dv,
                    nhwc_in,
                    zeros,
                    sink,
                    d_bias,
                    d_x,
                })
            });
        self.weight_grad(&g, d_w);
        if let Some(d_b) = d_b {
            for part in self.d_bias.chunks(g.f) {
                d_b.iter_mut().zip(part).for_each(|(d, p)| *d += p);
            }
        }
        Ok(())
    }

    /// `d_w += G^T (sum over chunks of V^T dM) G`: one task per transform position, then one
    /// per filter.
    fn weight_grad(&mut self, g: &Geometry, d_w: &mut [f32]) {
        let (c, f) = (g.c, g.f);
        let (v, m) = (&self.v[..], &self.m[..]);
        self.du
            .par_chunks_mut(c * f)
            .enumerate()
            .for_each(|(xi, du)| on_kernel(WeightGrad { g, xi, v, m, du }));
        let du = &self.du;
        d_w.par_chunks_mut(c * 9)
            .enumerate()
            .for_each(|(filter, d_w)| {
                for (ci, d_w) in d_w.chunks_exact_mut(9).enumerate() {
                    let tile: [f32; XI] = std::array::from_fn(|xi| du[(xi * c + ci) * f + filter]);
                    let grad = filter_tile_adjoint(&tile);
                    d_w.iter_mut().zip(grad).for_each(|(d, g)| *d += g);
                }
            });
    }

    /// Sizes the buffers for `g`.
    fn lay_out(&mut self, g: &Geometry) {
        let same = self.layout == Some(*g);
        if same {
            return;
        }
        let (chunks, samples) = (g.slots, (g.slots * g.chunk).min(g.n));
        // A buffer much larger than needed (after a large evaluation batch) is given back.
        let fresh = |buf: &mut Vec<f32>, len: usize| {
            if buf.capacity() > 2 * len {
                *buf = Vec::new();
            }
            buf.clear();
            buf.resize(len, 0.0);
        };
        fresh(&mut self.u, XI * g.c * g.f);
        fresh(&mut self.ut, XI * g.c * g.f);
        self.filters_of.clear();
        fresh(&mut self.nhwc_in, samples * g.in_len());
        fresh(&mut self.nhwc_out, samples * g.out_len());
        fresh(&mut self.v, chunks * XI * g.v_stride());
        fresh(&mut self.m, chunks * XI * g.m_stride());
        fresh(&mut self.dv, chunks * XI * g.v_stride());
        fresh(&mut self.masked, chunks * g.out_len());
        fresh(&mut self.zeros, g.edge_len());
        fresh(&mut self.sink, chunks * g.edge_len());
        fresh(&mut self.du, XI * g.c * g.f);
        fresh(&mut self.d_bias, chunks * g.f);
        fresh(
            &mut self.winners,
            if g.pool && g.slots == g.chunks() {
                g.n * g.out_len()
            } else {
                0
            },
        );
        self.layout = Some(*g);
    }
}

/// `u[xi][c][f] = ut[xi][f][c] = (G g G^T)[xi]` for every filter `f` and channel `c`.
fn transform_filters(g: &Geometry, weight: &[f32], u: &mut [f32], ut: &mut [f32]) {
    let (c, f) = (g.c, g.f);
    for (filter, row) in weight.chunks_exact(c * 9).enumerate() {
        for (ci, taps) in row.chunks_exact(9).enumerate() {
            for (xi, value) in filter_tile(taps).into_iter().enumerate() {
                u[(xi * c + ci) * f + filter] = value;
                ut[(xi * f + filter) * c + ci] = value;
            }
        }
    }
}
