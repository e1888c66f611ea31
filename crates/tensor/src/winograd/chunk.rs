//! One chunk of samples through forward or backward, and one transform position through the
//! weight gradient: the passes that run with an instruction set on.

use super::dispatch::KernelPass;
use super::planes::{input_cells, output_cells, relu_masked, transpose};
use super::product::{Operand, Output, product};
use super::transform::{input_tile, input_tile_adjoint, output_tile, output_tile_adjoint};
use super::{Geometry, XI};
use crate::conv_pool::{relu_max_2x2, winner_grads};
use crate::sgemm::{Kernel, Scalar, Simd};

/// One chunk of samples through forward: the chunk's parts of the operation's buffers.
pub(super) struct ChunkForward<'a> {
    pub g: &'a Geometry,
    /// The chunk's input `[S, C, H, W]`.
    pub x: &'a [f32],
    /// The same in NHWC planes `[S, H, W, C]`.
    pub nhwc_in: &'a mut [f32],
    pub v: &'a mut [f32],
    pub m: &'a mut [f32],
    pub u: &'a [f32],
    pub bias: Option<&'a [f32]>,
    pub relu: bool,
    /// C zeros: what the tiles read where they reach into the padding.
    pub zeros: &'a [f32],
    /// F floats where the outputs past the plane go.
    pub sink: &'a mut [f32],
    /// The output in NHWC planes `[S, OH, OW, F]` (pooled: `[S, PH, PW, F]`), before the
    /// copy to `y`.
    pub nhwc_out: &'a mut [f32],
    /// The chunk's output `[S, F, OH, OW]` (pooled: `[S, F, PH, PW]`).
    pub y: &'a mut [f32],
    /// Pooled, in training: each window's winner `[S, PH, PW, F]`.
    pub winners: Option<&'a mut [f32]>,
}

/// One chunk of samples through backward.
pub(super) struct ChunkBackward<'a> {
    pub g: &'a Geometry,
    /// The chunk's output gradient `[S, F, OH, OW]`.
    pub d_y: &'a [f32],
    pub relu_output: Option<&'a [f32]>,
    /// Pooled: each window's winner `[S, PH, PW, F]`, with `d_y` the pooled gradient.
    pub winners: Option<&'a [f32]>,
    /// One sample's output gradient through ReLU's derivative `[F, OH, OW]`.
    pub masked: &'a mut [f32],
    /// The output gradient in NHWC planes `[S, OH, OW, F]`.
    pub nhwc_out: &'a mut [f32],
    pub m: &'a mut [f32],
    pub ut: &'a [f32],
    pub dv: &'a mut [f32],
    /// The input gradient in NHWC planes `[S, H, W, C]`.
    pub nhwc_in: &'a mut [f32],
    /// F zeros: the gradient of the outputs past the plane.
    pub zeros: &'a [f32],
    /// C floats where the gradient of the padding goes.
    pub sink: &'a mut [f32],
    pub d_bias: &'a mut [f32],
    /// The chunk's input gradient `[S, C, H, W]`, when wanted.
    pub d_x: Option<&'a mut [f32]>,
}

/// The transform-position task of the weight gradient: `du = sum over chunks of V[xi]^T
/// dM[xi]`.
pub(super) struct WeightGrad<'a> {
    pub g: &'a Geometry,
    pub xi: usize,
    pub v: &'a [f32],
    pub m: &'a [f32],
    /// `dU[xi]` `[C, F]`.
    pub du: &'a mut [f32],
}

impl KernelPass for WeightGrad<'_> {
    fn kernel(&self) -> Kernel {
        self.g.kernel
    }

    #[inline(always)]
    unsafe fn run<S: Simd, const MR: usize, const NV: usize>(self) {
        let (g, xi) = (self.g, self.xi);
        let (c, f) = (g.c, g.f);
        for chunk in 0..g.chunks() {
            let rows = (g.n - chunk * g.chunk).min(g.chunk) * g.tiles();
            let v = &self.v[(chunk * XI + xi) * g.v_stride()..][..rows * c];
            let m = &self.m[(chunk * XI + xi) * g.m_stride()..][..rows * f];
            // SAFETY: the CPU runs `S` (`run`'s contract). V[xi]^T is the [C, rows] matrix with
            // strides (1, C) over `v`'s `rows * C` floats, dM[xi] the row-major [rows, F] of
            // `m`'s `rows * F`, and dU[xi] the row-major [C, F] of this task's `du` chunk, `C *
            // F` floats of another buffer, so the output overlaps neither operand; B's columns
            // are adjacent (`col: 1`), and K = rows > 0 (a chunk has a sample, and backward
            // returned early when there are no tiles).
            unsafe {
                product::<S, MR, NV>(
                    g.kernel,
                    (c, rows, f),
                    Operand {
                        ptr: v.as_ptr(),
                        row: 1,
                        col: c,
                    },
                    Operand {
                        ptr: m.as_ptr(),
                        row: f,
                        col: 1,
                    },
                    Output {
                        ptr: self.du.as_mut_ptr(),
                        row: f,
                    },
                    chunk > 0,
                )
            };
        }
    }
}

/// Whole vectors of `S` over `len` channels, then the rest one by one.
#[inline(always)]
fn split_lanes<S: Simd>(len: usize) -> (usize, usize) {
    let whole = len / S::LANES * S::LANES;
    (whole, len)
}

/// The tile at row `ty`, column `tx` of sample `s`, and its row in a chunk's `v` and `m`.
#[derive(Clone, Copy)]
struct Tile {
    s: usize,
    ty: usize,
    tx: usize,
    row: usize,
}

fn tiles(g: &Geometry, samples: usize) -> impl Iterator<Item = Tile> + '_ {
    (0..samples).flat_map(move |s| {
        (0..g.th).flat_map(move |ty| {
            (0..g.tw).map(move |tx| Tile {
                s,
                ty,
                tx,
                row: (s * g.th + ty) * g.tw + tx,
            })
        })
    })
}

/// The chunk's GEMMs, one per transform position, over its first `rows` tile rows:
/// `out[xi] = a[xi] b[xi]` for `a` `[rows, K]` and `b` `[K, N]` (forward: `v`, `u`; backward:
/// `dm`, `ut`), the blocks of `a` and `out` `a_stride` and `out_stride` floats apart.
///
/// # Safety
/// The CPU runs `S`, `MR x (NV * S::LANES)` is `g.kernel`'s register tile, and `k > 0`. (The
/// blocks are sliced with checked indexing, so sizes that do not fit panic.)
#[inline(always)]
unsafe fn products<S: Simd, const MR: usize, const NV: usize>(
    g: &Geometry,
    (rows, k, n): (usize, usize, usize),
    (a, a_stride): (&[f32], usize),
    b: &[f32],
    (out, out_stride): (&mut [f32], usize),
) {
    for xi in 0..XI {
        let a = &a[xi * a_stride..][..rows * k];
        let b = &b[xi * k * n..][..k * n];
        let out = &mut out[xi * out_stride..][..rows * n];
        // SAFETY: the CPU runs `S`. The three checked slices hold the row-major `[rows, k]`,
        // `[k, n]` and `[rows, n]` matrices the operands describe (B's columns adjacent, `k >
        // 0` by this function's contract), and `out` is a `&mut` borrow, so it overlaps
        // neither `a` nor `b`.
        unsafe {
            product::<S, MR, NV>(
                g.kernel,
                (rows, k, n),
                Operand {
                    ptr: a.as_ptr(),
                    row: k,
                    col: 1,
                },
                Operand {
                    ptr: b.as_ptr(),
                    row: n,
                    col: 1,
                },
                Output {
                    ptr: out.as_mut_ptr(),
                    row: n,
                },
                false,
            )
        };
    }
}

impl KernelPass for ChunkForward<'_> {
    fn kernel(&self) -> Kernel {
        self.g.kernel
    }

    /// Input copy, input transform, products and output transform for one chunk.
    #[inline(always)]
    unsafe fn run<S: Simd, const MR: usize, const NV: usize>(self) {
        // SAFETY: `run`'s contract is `forward_chunk`'s.
        unsafe { forward_chunk::<S, MR, NV>(self) }
    }
}

impl KernelPass for ChunkBackward<'_> {
    fn kernel(&self) -> Kernel {
        self.g.kernel
    }

    /// Output-gradient copy and transform, then (when the input gradient is wanted) its
    /// products, the adjoint input transform and the copy back, for one chunk.
    #[inline(always)]
    unsafe fn run<S: Simd, const MR: usize, const NV: usize>(self) {
        // SAFETY: `run`'s contract is `backward_chunk`'s.
        unsafe { backward_chunk::<S, MR, NV>(self) }
    }
}

/// See [`ChunkForward`]'s [`KernelPass::run`].
///
/// # Safety
/// As [`KernelPass::run`]: the CPU runs `S`, and `p`'s slices are one chunk's, laid out for
/// `g`: `x` and `y` the chunk's samples, `nhwc_in` and `nhwc_out` at least as many samples'
/// planes, `v` and `m` `16` blocks of `v_stride` and `m_stride`, `zeros` and `sink` `max(C,
/// F)` floats, `u` `16 * C * F`, the bias (if any) `F` values and the winners (if any) the
/// chunk's pooled cells.
#[inline(always)]
unsafe fn forward_chunk<S: Simd, const MR: usize, const NV: usize>(mut p: ChunkForward<'_>) {
    let g = p.g;
    debug_assert_eq!(MR, g.kernel.tile().0, "the blocks are padded to this tile");
    let (c, f, vs, ms) = (g.c, g.f, g.v_stride(), g.m_stride());
    let (in_cells, out_cells) = (g.win.in_h * g.win.in_w, g.out_cells());
    let samples = p.y.len() / g.out_len();
    for s in 0..samples {
        let range = s * g.in_len()..(s + 1) * g.in_len();
        // SAFETY: the CPU runs `S`; `transpose` asserts the sizes it relies on.
        unsafe { transpose::<S>(&p.x[range.clone()], (c, in_cells), &mut p.nhwc_in[range]) };
    }
    let (whole, all) = split_lanes::<S>(c);
    for t in tiles(g, samples) {
        let sample = p.nhwc_in[t.s * g.in_len()..].as_ptr();
        let cells = input_cells(g, t.ty, t.tx).map(|cell| match cell {
            // SAFETY: `at = (iy * W + ix) * C` with `iy < H` and `ix < W` (`input_cells` checks
            // both), inside the sample's `[H, W, C]` plane, which `sample` starts.
            Some(at) => unsafe { sample.add(at) },
            None => p.zeros.as_ptr(),
        });
        let dst = p.v[t.row * c..].as_mut_ptr();
        // SAFETY: every cell is C channels of the sample's plane or the `max(C, F)` zeros, and
        // the loads read channels `c0..c0 + LANES` with `c0 + LANES <= whole <= C` (then one
        // channel at a time by `Scalar`). Position `xi` of the tile's row is `dst + c0 + xi *
        // vs`: with `t.row < rows() <= block_rows` it ends by `block_rows * C + 15 * vs <= 16 *
        // vs`, inside the chunk's `v` (`v_stride >= block_rows * C`).
        unsafe {
            for c0 in (0..whole).step_by(S::LANES) {
                input_tile::<S>(&cells, c0, dst.add(c0), vs);
            }
            for c0 in whole..all {
                input_tile::<Scalar>(&cells, c0, dst.add(c0), vs);
            }
        }
    }
    // Whole register tiles: the rows past the chunk's tiles are inside the blocks.
    let rows = (samples * g.tiles()).next_multiple_of(MR);
    // SAFETY: the CPU runs `S` and `MR x (NV * LANES)` is `g.kernel`'s tile (`run`'s
    // contract); K = C > 0 (`check_conv_args`); `products` slices `v`, `u` and `m` itself.
    unsafe { products::<S, MR, NV>(g, (rows, c, f), (p.v, vs), p.u, (p.m, ms)) };
    let (whole, all) = split_lanes::<S>(f);
    for t in tiles(g, samples) {
        let src = p.m[t.row * f..].as_ptr();
        // SAFETY: position `xi` of the tile's row of `m` is `src + xi * ms`, and filters `f0..f0
        // + LANES` (`f0 + LANES <= whole <= F`; one filter for `Scalar`) end by `block_rows *
        // F + 15 * ms <= 16 * ms`, inside the chunk's `m`. The bias has F values
        // (`check_conv_args`), so its LANES from `f0` exist; `output_cells_out` gets a vector
        // start `f0` as it asks.
        unsafe {
            for f0 in (0..whole).step_by(S::LANES) {
                let bias = p.bias.map_or(S::zero(), |b| S::load(b.as_ptr().add(f0)));
                let values = output_tile::<S>(src.add(f0), ms);
                output_cells_out::<S>(&mut p, t, f0, values, bias);
            }
            for f0 in whole..all {
                let bias = p.bias.map_or(0.0, |b| b[f0]);
                let values = output_tile::<Scalar>(src.add(f0), ms);
                output_cells_out::<Scalar>(&mut p, t, f0, values, bias);
            }
        }
    }
    for s in 0..samples {
        let range = s * g.out_len()..(s + 1) * g.out_len();
        // SAFETY: the CPU runs `S`; `transpose` asserts the sizes it relies on.
        unsafe { transpose::<S>(&p.nhwc_out[range.clone()], (out_cells, f), &mut p.y[range]) };
    }
}

/// The gradient of one vector of filters of tile `t`'s four outputs `[dY00, dY01, dY10,
/// dY11]`: read from the NHWC gradient (zero past the plane), or pooled, the window's gradient
/// at its winner.
///
/// # Safety
/// As [`backward_chunk`], for a tile `t` of the chunk; `f0 + S::LANES <= F`.
#[inline(always)]
unsafe fn output_cells_grad<S: Simd>(p: &ChunkBackward<'_>, t: Tile, f0: usize) -> [S::V; 4] {
    let g = p.g;
    let sample = t.s * g.out_len();
    // SAFETY: the CPU runs `S`. Sample `t.s` of the chunk starts at `sample` in `nhwc_out` (and
    // in the winners): a pooled cell `(ty, tx)` has F filters from `sample + (ty * tw + tx) *
    // F`, a plane cell from `sample + at` (`output_cells` keeps it inside `[OH, OW, F]`), and
    // the zeros `max(C, F)` floats; `f0 + LANES <= F` keeps each load inside them.
    unsafe {
        if let Some(winners) = p.winners {
            let at = sample + (t.ty * g.tw + t.tx) * g.f + f0;
            let d = S::load(p.nhwc_out.as_ptr().add(at));
            return winner_grads::<S>(S::load(winners.as_ptr().add(at)), d);
        }
        let mut dy = [S::zero(); 4];
        for (dy, cell) in dy.iter_mut().zip(output_cells(g, t.ty, t.tx)) {
            *dy = match cell {
                Some(at) => S::load(p.nhwc_out.as_ptr().add(sample + at + f0)),
                None => S::load(p.zeros.as_ptr().add(f0)),
            };
        }
        dy
    }
}

/// Writes one vector of filters of tile `t`'s outputs `values` (`[Y00, Y01, Y10, Y11]`, before
/// the bias): the four cells through ReLU if asked (those past the plane to the sink), or
/// pooled, the maximum after ReLU and its winner.
///
/// # Safety
/// As [`forward_chunk`], for a tile `t` of the chunk; `f0 + S::LANES <= F`.
#[inline(always)]
unsafe fn output_cells_out<S: Simd>(
    p: &mut ChunkForward<'_>,
    t: Tile,
    f0: usize,
    values: [S::V; 4],
    bias: S::V,
) {
    let g = p.g;
    let mut z = values;
    for z in &mut z {
        // SAFETY: a register operation on the instruction set the caller vouches for.
        *z = unsafe { S::add(*z, bias) };
    }
    let sample = t.s * g.out_len();
    if g.pool {
        let at = sample + (t.ty * g.tw + t.tx) * g.f + f0;
        // SAFETY: the CPU runs `S`. Pooled cell `(ty, tx)` of sample `t.s` holds F filters from
        // `at` in the chunk's NHWC output (`[S, PH, PW, F]`) and in its winners, laid out
        // alike; `f0 + LANES <= F`, so both stores stay inside the cell.
        unsafe {
            let (max, code) = relu_max_2x2::<S>(z);
            S::store(p.nhwc_out.as_mut_ptr().add(at), max);
            if let Some(winners) = p.winners.as_deref_mut() {
                S::store(winners.as_mut_ptr().add(at), code);
            }
        }
        return;
    }
    for (cell, z) in output_cells(g, t.ty, t.tx).into_iter().zip(z) {
        let dst = match cell {
            Some(at) => &mut p.nhwc_out[sample + at + f0..],
            None => &mut p.sink[f0..],
        };
        // SAFETY: the CPU runs `S`. `dst` starts at filter `f0` of an output cell (F filters,
        // inside `[OH, OW, F]` by `output_cells`) or of the sink (`max(C, F)` floats); the
        // slice start is checked and `f0 + LANES <= F` keeps the store inside it.
        unsafe { S::store(dst.as_mut_ptr(), if p.relu { S::relu(z) } else { z }) };
    }
}

/// See [`ChunkBackward`]'s [`KernelPass::run`].
///
/// # Safety
/// As [`KernelPass::run`]: the CPU runs `S`, and `p`'s slices are one chunk's, laid out for
/// the training forward's `g` as in [`forward_chunk`]: `d_y` (and `relu_output`, `winners`)
/// the chunk's output cells, `masked` one sample's, `nhwc_out`, `nhwc_in` and `d_x` the
/// chunk's samples, `m` and `dv` 16 blocks of `m_stride` and `v_stride`, `ut` `16 * F * C`,
/// `zeros` and `sink` `max(C, F)` floats, `d_bias` F.
#[inline(always)]
unsafe fn backward_chunk<S: Simd, const MR: usize, const NV: usize>(p: ChunkBackward<'_>) {
    let g = p.g;
    let (c, f, vs, ms) = (g.c, g.f, g.v_stride(), g.m_stride());
    let (in_cells, out_cells) = (g.win.in_h * g.win.in_w, g.out_cells());
    let samples = p.d_y.len() / g.out_len();
    for s in 0..samples {
        let range = s * g.out_len()..(s + 1) * g.out_len();
        let d_y = match p.relu_output {
            Some(y) => {
                relu_masked(&p.d_y[range.clone()], &y[range.clone()], p.masked);
                &p.masked[..]
            }
            None => &p.d_y[range.clone()],
        };
        // SAFETY: the CPU runs `S`; `transpose` asserts the sizes it relies on.
        unsafe { transpose::<S>(d_y, (f, out_cells), &mut p.nhwc_out[range]) };
    }
    let (whole, all) = split_lanes::<S>(f);
    for t in tiles(g, samples) {
        let dst = p.m[t.row * f..].as_mut_ptr();
        // SAFETY: the CPU runs `S`. The gradients are read as `output_cells_grad` asks (a
        // tile of the chunk, `f0 + LANES <= F`), and written at `dst + f0 + xi * ms`, inside the
        // chunk's `m` as in forward's output transform.
        unsafe {
            for f0 in (0..whole).step_by(S::LANES) {
                let dy = output_cells_grad::<S>(&p, t, f0);
                output_tile_adjoint::<S>(dy, dst.add(f0), ms);
            }
            for f0 in whole..all {
                let dy = output_cells_grad::<Scalar>(&p, t, f0);
                output_tile_adjoint::<Scalar>(dy, dst.add(f0), ms);
            }
        }
    }
    // The bias gradient: dM[1][1] is the sum of the tile's four output gradients.
    let rows = samples * g.tiles();
    p.d_bias.fill(0.0);
    for tile in p.m[5 * ms..][..rows * f].chunks_exact(f) {
        p.d_bias.iter_mut().zip(tile).for_each(|(d, v)| *d += v);
    }
    let Some(d_x) = p.d_x else { return };
    // Whole register tiles, as in forward.
    let rows = rows.next_multiple_of(MR);
    // SAFETY: as forward's products, with `m`, `ut` and `dv`, and K = F > 0 (`run_backward`
    // returned early for F = 0).
    unsafe { products::<S, MR, NV>(g, (rows, f, c), (p.m, ms), p.ut, (p.dv, vs)) };
    let nhwc_in = &mut p.nhwc_in[..samples * g.in_len()];
    nhwc_in.fill(0.0);
    let (whole, all) = split_lanes::<S>(c);
    for t in tiles(g, samples) {
        let src = p.dv[t.row * c..].as_ptr();
        let sample = nhwc_in[t.s * g.in_len()..].as_mut_ptr();
        let sink = p.sink.as_mut_ptr();
        let cells = input_cells(g, t.ty, t.tx).map(|cell| match cell {
            // SAFETY: as in forward: a cell inside the sample's `[H, W, C]` gradient plane.
            Some(at) => unsafe { sample.add(at) },
            None => sink,
        });
        // SAFETY: as forward's input transform, the other way round: `dv`'s row is read where
        // forward wrote `v`'s (`dv` has `v`'s layout), and each cell, of the plane or the
        // `max(C, F)`-float sink, gets channels `c0..c0 + LANES <= C` added. Cells of one tile
        // are distinct except the sink, where what lands is never read.
        unsafe {
            for c0 in (0..whole).step_by(S::LANES) {
                input_tile_adjoint::<S>(src.add(c0), vs, &cells, c0);
            }
            for c0 in whole..all {
                input_tile_adjoint::<Scalar>(src.add(c0), vs, &cells, c0);
            }
        }
    }
    for s in 0..samples {
        let range = s * g.in_len()..(s + 1) * g.in_len();
        // SAFETY: the CPU runs `S`; `transpose` asserts the sizes it relies on.
        unsafe { transpose::<S>(&nhwc_in[range.clone()], (in_cells, c), &mut d_x[range]) };
    }
}
