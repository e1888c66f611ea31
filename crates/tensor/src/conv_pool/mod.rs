//! A convolution with stride 1, its bias and ReLU, and a 2x2 stride-2 max pool, as one pass.
//!
//! The first convolution of an image model has few input channels (one for MNIST), so its GEMM
//! has K = 9: the product is short, and the time goes into writing the convolution's output,
//! reading it back to pool it, and doing the same again in backward (5.5 MB per batch of 64 for
//! the reference CNN). Here the four outputs a pooling window covers are computed side by side
//! in registers, ReLU'd and reduced to their maximum before anything is stored: only the pooled
//! plane leaves the registers, with the winner of each window for backward. Backward reads the
//! pooled gradient and the winners and forms the weight gradient from the same input vectors.
//!
//! The input is first split into planes of its even and odd columns (padding written as zeros),
//! so the cells of neighbouring windows lie in neighbouring lanes (see `kernel.rs`).
//!
//! Results: the pooled values equal those of the unfused layers bit for bit (same FMAs, same
//! order, the same first-maximum rule); the gradients are sums in another order, so they agree
//! to rounding. Every sum runs in a fixed order, so results do not depend on the thread count.

mod kernel;

pub(crate) use kernel::{NO_GRADIENT, relu_max_2x2, winner_grads};

use ndarray::{ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, ArrayViewMut4, Axis};
use rayon::prelude::*;

use crate::conv::check_conv_args;
use crate::pool::contiguous_mut;
use crate::sgemm::{Kernel, Scalar};
use crate::{Result, TensorError, Window2d};
use kernel::{FilterGrad, SampleForward, forward_sample, tap_offsets, weight_grad_filter};

const OP: &str = "conv_relu_max_pool";

/// Convolution (stride 1, any window and padding) + bias + ReLU + 2x2 stride-2 max pool, f32,
/// holding what backward needs between the two passes.
///
/// ```
/// use ndarray::{Array2, Array4};
/// use neurite_tensor::{ConvReluPool, Padding, Window2d};
/// let win = Window2d::new((6, 6), (3, 3), (1, 1), Padding::Valid).unwrap();
/// let x = Array4::<f32>::ones((1, 1, 6, 6));
/// let weight = Array2::<f32>::from_elem((2, 9), 0.5); // [F, C * KH * KW]
/// let mut pooled = Array4::<f32>::zeros((1, 2, 2, 2)); // the 4x4 output, pooled
/// let mut op = ConvReluPool::default();
/// op.forward(x.view(), weight.view(), Some(&[0.0, -10.0]), &win, pooled.view_mut(), false)
///     .unwrap();
/// assert!(pooled.iter().take(4).all(|&v| v == 4.5));
/// assert!(pooled.iter().skip(4).all(|&v| v == 0.0)); // 4.5 - 10 is cut by ReLU
/// ```
#[derive(Debug, Default)]
pub struct ConvReluPool {
    /// The input of the last forward as planes of even and odd columns.
    planes: Vec<f32>,
    /// Per pooled cell, which of the window's four cells won (`2 dy + dx`), or `NO_GRADIENT`.
    winners: Vec<f32>,
    /// The sizes of the last training forward, whose planes and winners are kept.
    trained: Option<Geometry>,
    /// The instruction set asked for (`None`: the fastest, [`Kernel::best`]).
    kernel: Option<Kernel>,
}

/// The sizes of one batch and the layout of its planes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Geometry {
    n: usize,
    c: usize,
    f: usize,
    win: Window2d,
    /// Pooled rows and columns: half the convolution's, rounded down.
    ph: usize,
    pw: usize,
    /// Padded input rows.
    hp: usize,
    /// Floats per plane row: whole vectors over the pooled columns plus the window's reach.
    row_len: usize,
    /// The kernel (instruction set) the planes are laid out for.
    kernel: Kernel,
}

impl Geometry {
    fn new(n: usize, c: usize, f: usize, win: Window2d, kernel: Kernel) -> Self {
        let lanes = lanes(kernel);
        let (ph, pw) = (win.out_h / 2, win.out_w / 2);
        Geometry {
            n,
            c,
            f,
            win,
            ph,
            pw,
            hp: win.in_h + win.pad_top + win.pad_bottom,
            row_len: pw.div_ceil(lanes) * lanes + win.kernel_w / 2 + 1,
            kernel,
        }
    }

    fn ckk(&self) -> usize {
        self.c * self.win.kernel_h * self.win.kernel_w
    }

    /// Start of plane row `r` (padded), parity `parity` (0: even columns), channel `c`.
    fn plane_row(&self, c: usize, r: usize, parity: usize) -> usize {
        ((c * self.hp + r) * 2 + parity) * self.row_len
    }

    /// Floats of one sample's planes.
    fn sample_len(&self) -> usize {
        self.plane_row(self.c, 0, 0)
    }

    fn pooled_shape(&self) -> [usize; 4] {
        [self.n, self.f, self.ph, self.pw]
    }
}

fn lanes(kernel: Kernel) -> usize {
    match kernel {
        Kernel::Avx512 => 16,
        Kernel::Avx2 => 8,
        Kernel::Portable => 1,
    }
}

impl ConvReluPool {
    /// An operation that runs `kernel`'s instruction set (tests and benchmarks compare them);
    /// one this CPU lacks falls back to [`Kernel::best`].
    pub fn with_kernel(kernel: Kernel) -> Self {
        ConvReluPool {
            kernel: Some(kernel),
            ..ConvReluPool::default()
        }
    }

    /// Whether the window is one this operation computes: stride 1 (any size and padding).
    pub fn supports(win: &Window2d) -> bool {
        (win.stride_h, win.stride_w) == (1, 1)
    }

    /// `pooled = max_pool_2x2(relu(conv(x, weight) + bias))`, keeping the input planes and each
    /// window's winner for [`ConvReluPool::backward`] when `train`.
    ///
    /// # Shapes
    /// `x` `[N, C, H, W]`, `weight` `[F, C * KH * KW]` (columns in `(c, ky, kx)` order), `bias`
    /// `[F]`, `pooled` `[N, F, OH / 2, OW / 2]` (contiguous) for the window's `OH x OW` output.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for a stride other than 1,
    /// [`TensorError::ShapeMismatch`] for shapes that do not fit together.
    pub fn forward(
        &mut self,
        x: ArrayView4<'_, f32>,
        weight: ArrayView2<'_, f32>,
        bias: Option<&[f32]>,
        win: &Window2d,
        mut pooled: ArrayViewMut4<'_, f32>,
        train: bool,
    ) -> Result<()> {
        if !Self::supports(win) {
            let stride = format!("{:?}", (win.stride_h, win.stride_w));
            return Err(TensorError::invalid(OP, "stride", stride, "must be (1, 1)"));
        }
        let (n, c, f) = check_conv_args(OP, x.shape(), weight.shape(), bias, win)?;
        let kernel = self.kernel.filter(|k| k.is_supported());
        let g = Geometry::new(n, c, f, *win, kernel.unwrap_or_else(Kernel::best));
        let pooled = contiguous_mut(OP, "pooled", &mut pooled, &g.pooled_shape())?;
        let weight = weight.as_standard_layout();
        let weight = weight.as_slice().expect("standard layout");
        self.trained = None;
        let sample_len = g.sample_len();
        let plane_len = g.f * g.ph * g.pw;
        self.planes.resize(n * sample_len, 0.0);
        if train {
            self.winners.resize(n * plane_len, 0.0);
        }
        if n == 0 || plane_len == 0 {
            self.trained = train.then_some(g);
            return Ok(());
        }
        let taps = tap_offsets(&g);
        let samples = x
            .axis_iter(Axis(0))
            .into_par_iter()
            .zip(self.planes.par_chunks_mut(sample_len))
            .zip(pooled.par_chunks_mut(plane_len));
        let run = |((x, planes), pooled): ((ArrayView3<'_, f32>, &mut [f32]), &mut [f32]),
                   winners: Option<&mut [f32]>| {
            fill_planes(&g, x, planes);
            forward_sample_on(SampleForward {
                g: &g,
                taps: &taps,
                planes,
                weight,
                bias,
                pooled,
                winners,
            });
        };
        if train {
            samples
                .zip(self.winners.par_chunks_mut(plane_len))
                .for_each(|(sample, winners)| run(sample, Some(winners)));
        } else {
            samples.for_each(|sample| run(sample, None));
        }
        self.trained = train.then_some(g);
        Ok(())
    }

    /// Adds the weight and bias gradients of the last training forward into `d_w` `[F, C * KH *
    /// KW]` and `d_b` `[F]`, from the gradient of its pooled output; writes the input gradient
    /// into `d_x` `[N, C, H, W]` when given.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] without a training forward,
    /// [`TensorError::ShapeMismatch`] for shapes other than that forward's.
    pub fn backward(
        &self,
        d_pooled: ArrayView4<'_, f32>,
        weight: ArrayView2<'_, f32>,
        mut d_w: ArrayViewMut2<'_, f32>,
        d_b: Option<&mut [f32]>,
        d_x: Option<ArrayViewMut4<'_, f32>>,
    ) -> Result<()> {
        let Some(g) = self.trained else {
            return Err(TensorError::invalid(
                OP,
                "state",
                "no training forward",
                "run forward with train = true first",
            ));
        };
        let want = |what: &str, got: &[usize], want: &[usize]| {
            if got == want {
                Ok(())
            } else {
                let detail = format!("{what} is {got:?}, expected {want:?}");
                Err(TensorError::mismatch(OP, detail))
            }
        };
        want("d_pooled", d_pooled.shape(), &g.pooled_shape())?;
        want("weight", weight.shape(), &[g.f, g.ckk()])?;
        want("d_w", d_w.shape(), &[g.f, g.ckk()])?;
        if let Some(d_b) = &d_b {
            want("d_b", &[d_b.len()], &[g.f])?;
        }
        let d_pooled = d_pooled.as_standard_layout();
        let d_pooled = d_pooled.as_slice().expect("standard layout");
        if g.ph * g.pw > 0 {
            let taps = tap_offsets(&g);
            let d_w = d_w.as_slice_mut().ok_or_else(|| {
                TensorError::mismatch(OP, "d_w must be a contiguous standard-layout array")
            })?;
            let rows = d_w.par_chunks_mut(g.ckk()).enumerate();
            let one = |f: usize, d_w: &mut [f32], d_b: Option<&mut f32>| {
                weight_grad_on(FilterGrad {
                    g: &g,
                    taps: &taps,
                    planes: &self.planes,
                    winners: &self.winners,
                    d_pooled,
                    f,
                    d_w,
                    d_b,
                })
            };
            match d_b {
                Some(d_b) => rows
                    .zip(d_b.par_iter_mut())
                    .for_each(|((f, d_w), d_b)| one(f, d_w, Some(d_b))),
                None => rows.for_each(|(f, d_w)| one(f, d_w, None)),
            }
        }
        if let Some(mut d_x) = d_x {
            let shape = [g.n, g.c, g.win.in_h, g.win.in_w];
            let d_x = contiguous_mut(OP, "d_x", &mut d_x, &shape)?;
            let weight = weight.as_standard_layout();
            let weight = weight.as_slice().expect("standard layout");
            let plane_len = g.f * g.ph * g.pw;
            d_x.par_chunks_mut((g.c * g.win.in_h * g.win.in_w).max(1))
                .enumerate()
                .for_each(|(n, d_x)| {
                    let cells = n * plane_len..(n + 1) * plane_len;
                    let (d_pooled, winners) = (&d_pooled[cells.clone()], &self.winners[cells]);
                    input_grad_sample(&g, weight, winners, d_pooled, d_x);
                });
        }
        Ok(())
    }

    /// The shape `[N, F, PH, PW]` of the last training forward's pooled output, if any.
    pub fn pooled_shape(&self) -> Option<[usize; 4]> {
        self.trained.map(|g| g.pooled_shape())
    }

    /// Per pooled cell of the last training forward, which cell of its window won (`2 dy +
    /// dx`), or 4 where the window's maximum was zero (no gradient passes): `[N, F, PH, PW]`
    /// flattened. Empty before a training forward.
    pub fn winners(&self) -> &[f32] {
        match self.trained {
            Some(_) => &self.winners,
            None => &[],
        }
    }
}

/// Splits one sample `[C, H, W]` into its planes: for every padded row, the even columns then
/// the odd ones, zeros where the padding or the vector's spare lanes fall.
fn fill_planes(g: &Geometry, x: ArrayView3<'_, f32>, planes: &mut [f32]) {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let (h, w) = (g.win.in_h, g.win.in_w);
    for c in 0..g.c {
        for r in 0..g.hp {
            let src = r
                .checked_sub(g.win.pad_top)
                .filter(|&y| y < h)
                .map(|y| &x[(c * h + y) * w..(c * h + y + 1) * w]);
            for parity in 0..2 {
                let start = g.plane_row(c, r, parity);
                let dst = &mut planes[start..start + g.row_len];
                for (j, d) in dst.iter_mut().enumerate() {
                    let col = (2 * j + parity).checked_sub(g.win.pad_left);
                    *d = match (src, col) {
                        (Some(src), Some(col)) if col < w => src[col],
                        _ => 0.0,
                    };
                }
            }
        }
    }
}

/// The input gradient of one sample: each winning cell's gradient spread over its window
/// through the weight (a scatter of `F * PH * PW` windows, only the winners'; the first
/// convolution of a model, where this operation pays, needs no input gradient at all).
fn input_grad_sample(
    g: &Geometry,
    weight: &[f32],
    winners: &[f32],
    d_pooled: &[f32],
    d_x: &mut [f32],
) {
    d_x.fill(0.0);
    let (h, w) = (g.win.in_h, g.win.in_w);
    let (kh, kw, ckk) = (g.win.kernel_h, g.win.kernel_w, g.ckk());
    for f in 0..g.f {
        let w_f = &weight[f * ckk..(f + 1) * ckk];
        for i in 0..g.ph {
            for j in 0..g.pw {
                let at = (f * g.ph + i) * g.pw + j;
                let code = winners[at];
                if code >= NO_GRADIENT {
                    continue;
                }
                let (dy, dx) = (code as usize / 2, code as usize % 2);
                let (oy, ox) = (2 * i + dy, 2 * j + dx);
                let d = d_pooled[at];
                for c in 0..g.c {
                    for ky in 0..kh {
                        let Some(iy) = (oy + ky).checked_sub(g.win.pad_top).filter(|&y| y < h)
                        else {
                            continue;
                        };
                        for kx in 0..kw {
                            let Some(ix) = (ox + kx).checked_sub(g.win.pad_left).filter(|&x| x < w)
                            else {
                                continue;
                            };
                            d_x[(c * h + iy) * w + ix] += w_f[(c * kh + ky) * kw + kx] * d;
                        }
                    }
                }
            }
        }
    }
}

/// [`kernel::forward_sample`] with the instruction set of the planes' layout switched on.
///
/// The slices of `s` must be the ones `forward` cuts for `s.g`: this is safe to call only
/// because nothing else builds a [`SampleForward`].
fn forward_sample_on(mut s: SampleForward<'_>) {
    match s.g.kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `forward` builds `g` with a kernel `is_supported` accepted (the one asked
        // for, if supported, else `Kernel::best`), so the CPU has AVX-512F; the planes, weight,
        // bias, pooled and winners slices are the sample's, sized from `g` and checked against
        // it (`check_conv_args`, `contiguous_mut`), which is `forward_sample`'s condition.
        Kernel::Avx512 => unsafe { forward_avx512(&mut s) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as for AVX-512, with AVX2 and FMA.
        Kernel::Avx2 => unsafe { forward_avx2(&mut s) },
        // SAFETY: `Scalar` needs no instruction set (and is the layout of `Kernel::Portable`,
        // one lane); the slices as above.
        _ => unsafe { forward_sample::<Scalar, 4>(&mut s) },
    }
}

/// Four filters at a time: 16 accumulators of the 32 registers.
///
/// # Safety
/// The CPU supports [`Kernel::Avx512`], and `s` meets [`forward_sample`]'s conditions with
/// planes laid out for 16 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512(s: &mut SampleForward<'_>) {
    // SAFETY: this function's contract is `forward_sample`'s for `Avx512`.
    unsafe { forward_sample::<crate::sgemm::Avx512, 4>(s) }
}

/// Two filters at a time: 8 accumulators of the 16 registers.
///
/// # Safety
/// The CPU supports [`Kernel::Avx2`], and `s` meets [`forward_sample`]'s conditions with planes
/// laid out for 8 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_avx2(s: &mut SampleForward<'_>) {
    // SAFETY: this function's contract is `forward_sample`'s for `Avx2`.
    unsafe { forward_sample::<crate::sgemm::Avx2, 2>(s) }
}

/// [`kernel::weight_grad_filter`] with the instruction set of the planes' layout switched on.
///
/// As [`forward_sample_on`], for the slices `backward` cuts.
fn weight_grad_on(p: FilterGrad<'_>) {
    match p.g.kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `g` is the geometry of the training forward (`trained`), built with a
        // supported kernel as in `forward_sample_on`, so the CPU has AVX-512F. The planes and
        // winners are that forward's, for `g`; `d_pooled`, `d_w` and `d_b` were checked
        // against `g` in `backward`: `weight_grad_filter`'s condition.
        Kernel::Avx512 => unsafe { weight_grad_avx512(p) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as for AVX-512, with AVX2 and FMA.
        Kernel::Avx2 => unsafe { weight_grad_avx2(p) },
        // SAFETY: `Scalar` needs no instruction set; the slices as above.
        _ => unsafe { weight_grad_filter::<Scalar>(p) },
    }
}

/// # Safety
/// The CPU supports [`Kernel::Avx512`], and `p` meets [`weight_grad_filter`]'s conditions with
/// planes laid out for 16 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn weight_grad_avx512(p: FilterGrad<'_>) {
    // SAFETY: this function's contract is `weight_grad_filter`'s for `Avx512`.
    unsafe { weight_grad_filter::<crate::sgemm::Avx512>(p) }
}

/// # Safety
/// The CPU supports [`Kernel::Avx2`], and `p` meets [`weight_grad_filter`]'s conditions with
/// planes laid out for 8 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn weight_grad_avx2(p: FilterGrad<'_>) {
    // SAFETY: this function's contract is `weight_grad_filter`'s for `Avx2`.
    unsafe { weight_grad_filter::<crate::sgemm::Avx2>(p) }
}
