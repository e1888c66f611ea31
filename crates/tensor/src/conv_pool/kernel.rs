//! The vector loops of [`ConvReluPool`](super::ConvReluPool), written once over [`Simd`] and
//! entered with each instruction set switched on.
//!
//! A vector holds `LANES` neighbouring pooled cells of one row. The four convolution outputs
//! that a 2x2 window pools, at columns `2j` and `2j + 1` of rows `2i` and `2i + 1`, read input
//! columns `2j + s` (`s = dx + kx`): in the planes of even and odd columns that is one unaligned
//! load at `j + s / 2` from the plane of parity `s % 2`, so no lane ever has to be shuffled.

use super::Geometry;
use crate::sgemm::Simd;

/// The winner code of a window whose maximum is zero: ReLU's derivative is zero there, so no
/// cell of the window receives a gradient.
pub(crate) const NO_GRADIENT: f32 = 4.0;

/// ReLU of a 2x2 window's four pre-activations `[y00, y01, y10, y11]`, lane by lane, then their
/// maximum and the winner's code: the first cell holding the maximum, as `max_pool2d` picks
/// it, or [`NO_GRADIENT`] when the maximum is zero.
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
pub(crate) unsafe fn relu_max_2x2<S: Simd>(z: [S::V; 4]) -> (S::V, S::V) {
    // SAFETY: register operations only, on the instruction set the caller vouches for.
    unsafe {
        let mut y = z;
        for y in &mut y {
            *y = S::relu(*y);
        }
        let max = S::max(S::max(y[0], y[1]), S::max(y[2], y[3]));
        let mut code = S::splat(3.0);
        for p in (0..3).rev() {
            code = S::select_eq(y[p], max, S::splat(p as f32), code);
        }
        let code = S::select_eq(max, S::zero(), S::splat(NO_GRADIENT), code);
        (max, code)
    }
}

/// The gradient of a window's four cells: the pooled gradient `d` at the winner `code`, zero
/// elsewhere (everywhere for [`NO_GRADIENT`]).
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
pub(crate) unsafe fn winner_grads<S: Simd>(code: S::V, d: S::V) -> [S::V; 4] {
    // SAFETY: a register operation, on the instruction set the caller vouches for.
    let mut grad = [unsafe { S::zero() }; 4];
    for (cell, grad) in grad.iter_mut().enumerate() {
        // SAFETY: as above.
        *grad = unsafe { S::select_eq(code, S::splat(cell as f32), d, S::zero()) };
    }
    grad
}

/// Where a tap reads its four windows' cells: offsets from the start of the sample's planes
/// (row `2i` and column `j0` are added by the caller), one per pooled cell `p = 2 dy + dx`.
pub(super) fn tap_offsets(g: &Geometry) -> Vec<[usize; 4]> {
    let (kh, kw) = (g.win.kernel_h, g.win.kernel_w);
    let mut taps = Vec::with_capacity(g.ckk());
    for c in 0..g.c {
        for ky in 0..kh {
            for kx in 0..kw {
                let mut at = [0; 4];
                for (p, at) in at.iter_mut().enumerate() {
                    let (dy, dx) = (p / 2, p % 2);
                    let s = dx + kx;
                    *at = g.plane_row(c, dy + ky, s % 2) + s / 2;
                }
                taps.push(at);
            }
        }
    }
    taps
}

/// What the forward of one sample reads and writes.
pub(super) struct SampleForward<'a> {
    pub g: &'a Geometry,
    pub taps: &'a [[usize; 4]],
    /// The sample's planes, laid out by `g`.
    pub planes: &'a [f32],
    /// `F * CKK` values.
    pub weight: &'a [f32],
    pub bias: Option<&'a [f32]>,
    /// `F * PH * PW` values, as `winners`.
    pub pooled: &'a mut [f32],
    pub winners: Option<&'a mut [f32]>,
}

/// One sample: every filter's pooled plane (and winners), `FB` filters at a time.
///
/// # Safety
/// `S`'s instruction set is available and `S::LANES` is the lane count `s.g` was laid out for
/// (`lanes(s.g.kernel)`). `s.g` was built from a window `check_conv_args` accepted (so `out_h
/// = hp - kh + 1` and `out_w = wp - kw + 1`, stride 1) and the slices have the sizes their
/// fields document for it: `planes` the sample's `g.sample_len()` floats, `weight` `F * CKK`,
/// `bias` (if any) `F`, `pooled` and `winners` `F * PH * PW`; `taps` is `tap_offsets(g)`.
#[inline(always)]
pub(super) unsafe fn forward_sample<S: Simd, const FB: usize>(s: &mut SampleForward<'_>) {
    let mut f = 0;
    while f + FB <= s.g.f {
        // SAFETY: this function's contract, and filters `f..f + FB` exist (`f + FB <= F`).
        unsafe { forward_filters::<S, FB>(s, f) };
        f += FB;
    }
    while f < s.g.f {
        // SAFETY: as above, for the one filter `f < F`.
        unsafe { forward_filters::<S, 1>(s, f) };
        f += 1;
    }
}

/// Filters `f0 .. f0 + FB` of one sample: each input vector is loaded once for all of them.
///
/// # Safety
/// As [`forward_sample`], and `f0 + FB <= F`.
#[inline(always)]
unsafe fn forward_filters<S: Simd, const FB: usize>(s: &mut SampleForward<'_>, f0: usize) {
    let g = s.g;
    let (ph, pw, lanes, ckk) = (g.ph, g.pw, S::LANES, g.ckk());
    for i in 0..ph {
        // Padded row 2i of channel 0, even columns: `plane_row` is linear in the row, and one
        // padded row is `plane_row(0, 1, 0)` floats (both parities).
        let row = 2 * i * g.plane_row(0, 1, 0);
        for j0 in (0..pw).step_by(lanes) {
            let live = (pw - j0).min(lanes);
            // SAFETY: `row + j0` is inside the planes (`base + at` below is, with `at >= 0`).
            let base = unsafe { s.planes.as_ptr().add(row + j0) };
            // SAFETY: a register operation on the instruction set the caller vouches for.
            let mut acc = [[unsafe { S::zero() }; 4]; FB];
            // The taps in the order of the weight's columns, (c, ky, kx): the same sequence
            // of FMAs as the GEMM, so the pooled values equal the unfused layers' bit for bit.
            for (t, at) in s.taps.iter().enumerate() {
                // SAFETY: as for `acc`.
                let mut input = [unsafe { S::zero() }; 4];
                for (v, &at) in input.iter_mut().zip(at) {
                    // SAFETY: `base + at` is `plane_row(c, 2i + dy + ky, (dx + kx) % 2) + j0 +
                    // (dx + kx) / 2` (see `tap_offsets`). The row, at most `2 (PH - 1) + 1 + KH -
                    // 1 <= OH + KH - 2 = hp - 1`, is a padded row of channel `c < C`, and the
                    // LANES floats from column `j0 + (dx + kx) / 2 <= ceil(PW / LANES) * LANES -
                    // LANES + KW / 2` end before `row_len = ceil(PW / LANES) * LANES + KW / 2 +
                    // 1`: the load stays inside one plane row of the sample's planes.
                    *v = unsafe { S::load(base.add(at)) };
                }
                for (b, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `(f0 + b) * CKK + t` with `f0 + b < F` and `t < CKK` (one tap per
                    // weight column) is inside the weight's `F * CKK` values.
                    let w = unsafe { S::splat(*s.weight.get_unchecked((f0 + b) * ckk + t)) };
                    for (a, &v) in acc.iter_mut().zip(&input) {
                        // SAFETY: a register operation, as for `acc`.
                        *a = unsafe { S::fma(w, v, *a) };
                    }
                }
            }
            for (b, acc) in acc.iter().enumerate() {
                let f = f0 + b;
                let at = (f * ph + i) * pw + j0;
                // SAFETY: `f < F` and `i < PH`, so the `live <= PW - j0` cells from `at` end at
                // most at `(f * PH + i + 1) * PW <= F * PH * PW`, inside `pooled` and `winners`;
                // `store_first` writes those lanes only. `b[f]` is a checked index.
                unsafe {
                    let bias = S::splat(s.bias.map_or(0.0, |b| b[f]));
                    let mut z = [S::zero(); 4];
                    for (z, &a) in z.iter_mut().zip(acc) {
                        *z = S::add(a, bias);
                    }
                    let (max, code) = relu_max_2x2::<S>(z);
                    S::store_first(s.pooled.as_mut_ptr().add(at), max, live);
                    if let Some(winners) = s.winners.as_deref_mut() {
                        S::store_first(winners.as_mut_ptr().add(at), code, live);
                    }
                }
            }
        }
    }
}

/// Taps whose sums one pass of [`weight_grad_filter`] keeps in registers.
const TAP_BLOCK: usize = 16;

/// What the weight gradient of one filter reads and writes.
pub(super) struct FilterGrad<'a> {
    pub g: &'a Geometry,
    pub taps: &'a [[usize; 4]],
    /// The whole batch's planes, winners and pooled gradient, laid out by `g`.
    pub planes: &'a [f32],
    pub winners: &'a [f32],
    pub d_pooled: &'a [f32],
    /// The filter.
    pub f: usize,
    /// Its `CKK` weight gradients and its bias gradient, added into.
    pub d_w: &'a mut [f32],
    pub d_b: Option<&'a mut f32>,
}

/// The weight gradient of one filter (and its bias gradient) over the whole batch. Sums run
/// over samples, rows and columns in that order, so they do not depend on the thread count.
///
/// # Safety
/// As [`forward_sample`] for the instruction set and `g`; the slices have the sizes their
/// fields document for `g`: `planes` `N * g.sample_len()` floats written by a forward with
/// `g`, `winners` and `d_pooled` `N * F * PH * PW`, `d_w` `CKK`, and `f < F`.
#[inline(always)]
pub(super) unsafe fn weight_grad_filter<S: Simd>(p: FilterGrad<'_>) {
    let (g, taps, f) = (p.g, p.taps, p.f);
    let (ph, pw, lanes) = (g.ph, g.pw, S::LANES);
    let row_step = 2 * g.plane_row(0, 1, 0);
    let mut d_b = p.d_b;
    for t0 in (0..taps.len()).step_by(TAP_BLOCK) {
        let block = &taps[t0..(t0 + TAP_BLOCK).min(taps.len())];
        // SAFETY: register operations on the instruction set the caller vouches for.
        let mut acc = [unsafe { S::zero() }; TAP_BLOCK];
        // SAFETY: as above.
        let mut bias_acc = unsafe { S::zero() };
        for n in 0..g.n {
            let sample = n * g.sample_len();
            for i in 0..ph {
                for j0 in (0..pw).step_by(lanes) {
                    let live = (pw - j0).min(lanes);
                    let at = ((n * g.f + f) * ph + i) * pw + j0;
                    // SAFETY: sample `n < N` starts at `n * sample_len` in the batch's planes, and
                    // `i * row_step` (two padded rows per pooled row) `+ j0` is inside it, as
                    // `base + at` below is.
                    let base = unsafe { p.planes.as_ptr().add(sample + i * row_step + j0) };
                    let grad;
                    // SAFETY: `at` is cell `(n, f, i, j0)` of `[N, F, PH, PW]`, and the `live <=
                    // PW - j0` cells from it end inside `d_pooled` and `winners`; `load_first`
                    // reads those lanes only.
                    unsafe {
                        let d = S::load_first(p.d_pooled.as_ptr().add(at), live);
                        let code = S::load_first(p.winners.as_ptr().add(at), live);
                        grad = winner_grads::<S>(code, d);
                        if t0 == 0 {
                            let sum = S::add(S::add(grad[0], grad[1]), S::add(grad[2], grad[3]));
                            bias_acc = S::add(bias_acc, sum);
                        }
                    }
                    for (acc, at) in acc.iter_mut().zip(block) {
                        let mut sum = *acc;
                        for (&grad, &at) in grad.iter().zip(at) {
                            // SAFETY: the load of `forward_filters` for sample `n`: LANES
                            // floats inside one plane row of its planes.
                            sum = unsafe { S::fma(grad, S::load(base.add(at)), sum) };
                        }
                        *acc = sum;
                    }
                }
            }
        }
        for (d_w, acc) in p.d_w[t0..].iter_mut().zip(&acc[..block.len()]) {
            // SAFETY: the instruction set the caller vouches for.
            *d_w += unsafe { lane_sum::<S>(*acc) };
        }
        if let (0, Some(d_b)) = (t0, d_b.as_deref_mut()) {
            // SAFETY: as above.
            *d_b += unsafe { lane_sum::<S>(bias_acc) };
        }
    }
}

/// The lanes of `v` added in order.
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
unsafe fn lane_sum<S: Simd>(v: S::V) -> f32 {
    let mut lanes = [0.0f32; 16];
    // SAFETY: `S`'s instruction set is the caller's to guarantee, and `lanes` holds 16 floats,
    // at least `S::LANES` (see `Simd::LANES`).
    unsafe { S::store(lanes.as_mut_ptr(), v) };
    lanes[..S::LANES].iter().sum()
}
