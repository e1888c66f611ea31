//! The transforms of Winograd's F(2x2, 3x3), forward next to their adjoints.
//!
//! A 2x2 block of a 3x3 convolution's output is `A^T [(G g G^T) . (B^T d B)] A` for the 3x3
//! filter `g` and the 4x4 input tile `d` under it (`.` multiplies element by element), with
//!
//! ```text
//!        | 1  0 -1  0 |         | 1    0    0  |
//!  B^T = | 0  1  1  0 |     G = | 1/2  1/2  1/2 |     A^T = | 1  1  1  0 |
//!        | 0 -1  1  0 |         | 1/2 -1/2  1/2 |           | 0  1 -1 -1 |
//!        | 0  1  0 -1 |         | 0    0    1  |
//! ```
//!
//! (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each matrix is
//! applied along both axes of a tile as a 1-D transform of four (or two, or three) values.
//! Backward uses the transposes: with `M = U . V` the product of a tile, `dM = A dY A^T`
//! brings the output gradient into the product's domain, `dV = U . dM` goes back to the input
//! through `B dV B^T`, and `dU = dM . V` to the filter through `G^T dU G`.
//!
//! The tile functions work on one SIMD vector of channels at a time: every load and store is a
//! vector of `S::LANES` consecutive channels, so the transforms cost a few vector additions per
//! tile and channel vector, next to the 16 multiply-adds per tile, input and output channel of
//! the products between them.

use crate::sgemm::Simd;

/// `B^T d`: the input transform along one axis.
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
unsafe fn input_1d<S: Simd>([d0, d1, d2, d3]: [S::V; 4]) -> [S::V; 4] {
    // SAFETY: register operations on the instruction set the caller vouches for.
    unsafe {
        [
            S::sub(d0, d2),
            S::add(d1, d2),
            S::sub(d2, d1),
            S::sub(d1, d3),
        ]
    }
}

/// `B v`: the adjoint of [`input_1d`], taking an input-domain gradient back to the tile.
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
unsafe fn input_1d_adjoint<S: Simd>([v0, v1, v2, v3]: [S::V; 4]) -> [S::V; 4] {
    // SAFETY: register operations on the instruction set the caller vouches for.
    unsafe {
        [
            v0,
            S::add(S::sub(v1, v2), v3),
            S::sub(S::add(v1, v2), v0),
            S::sub(S::zero(), v3),
        ]
    }
}

/// `A^T m`: four product values to two outputs along one axis.
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
unsafe fn output_1d<S: Simd>([m0, m1, m2, m3]: [S::V; 4]) -> [S::V; 2] {
    // SAFETY: register operations on the instruction set the caller vouches for.
    unsafe { [S::add(S::add(m0, m1), m2), S::sub(S::sub(m1, m2), m3)] }
}

/// `A y`: the adjoint of [`output_1d`], two output gradients to four product gradients.
///
/// # Safety
/// The CPU runs `S`.
#[inline(always)]
unsafe fn output_1d_adjoint<S: Simd>([y0, y1]: [S::V; 2]) -> [S::V; 4] {
    // SAFETY: register operations on the instruction set the caller vouches for.
    unsafe { [y0, S::add(y0, y1), S::sub(y0, y1), S::sub(S::zero(), y1)] }
}

/// `V = B^T d B` for one vector of channels: `d[i][j]` is at `cells[4 i + j] + offset`, and
/// `V[i][j]` goes to `dst + (4 i + j) * dst_stride`.
///
/// # Safety
/// The CPU runs `S`; `cells[k] + offset` is valid for `S::LANES` f32 reads and `dst + k *
/// dst_stride` for `S::LANES` writes, for every `k < 16`, and the two sets do not overlap.
#[inline(always)]
pub(super) unsafe fn input_tile<S: Simd>(
    cells: &[*const f32; 16],
    offset: usize,
    dst: *mut f32,
    dst_stride: usize,
) {
    // SAFETY: the loads are `cells[4 i + j] + offset` and the stores `dst + (4 i + j) *
    // dst_stride` for `i, j < 4`, `LANES` floats each: the addresses the caller vouches for.
    unsafe {
        // Down the columns first, then along the rows.
        let mut cols = [[S::zero(); 4]; 4];
        for (j, col) in cols.iter_mut().enumerate() {
            let mut d = [S::zero(); 4];
            for (i, d) in d.iter_mut().enumerate() {
                *d = S::load(cells[4 * i + j].add(offset));
            }
            *col = input_1d::<S>(d);
        }
        for i in 0..4 {
            let v = input_1d::<S>(cols.map(|col| col[i]));
            for (j, v) in v.into_iter().enumerate() {
                S::store(dst.add((4 * i + j) * dst_stride), v);
            }
        }
    }
}

/// Adds `B dV B^T` into the tile: `dV[i][j]` is at `src + (4 i + j) * src_stride`, and the
/// tile's `[i][j]` at `cells[4 i + j] + offset`.
///
/// # Safety
/// The CPU runs `S`; `src + k * src_stride` is valid for `S::LANES` f32 reads and `cells[k] +
/// offset` for `S::LANES` reads and writes, for every `k < 16`, and the two sets do not
/// overlap (cells may repeat: each is read, added to and written back in turn).
#[inline(always)]
pub(super) unsafe fn input_tile_adjoint<S: Simd>(
    src: *const f32,
    src_stride: usize,
    cells: &[*mut f32; 16],
    offset: usize,
) {
    // SAFETY: the loads are `src + (4 i + j) * src_stride` and the read-modify-writes
    // `cells[4 i + j] + offset` for `i, j < 4`, `LANES` floats each: the addresses the caller
    // vouches for.
    unsafe {
        let mut cols = [[S::zero(); 4]; 4];
        for (j, col) in cols.iter_mut().enumerate() {
            let mut v = [S::zero(); 4];
            for (i, v) in v.iter_mut().enumerate() {
                *v = S::load(src.add((4 * i + j) * src_stride));
            }
            *col = input_1d_adjoint::<S>(v);
        }
        for i in 0..4 {
            let d = input_1d_adjoint::<S>(cols.map(|col| col[i]));
            for (j, d) in d.into_iter().enumerate() {
                let p = cells[4 * i + j].add(offset);
                S::store(p, S::add(S::load(p), d));
            }
        }
    }
}

/// `Y = A^T M A` for one vector of channels, `M[i][j]` at `src + (4 i + j) * src_stride`:
/// the 2x2 outputs `[Y00, Y01, Y10, Y11]`.
///
/// # Safety
/// The CPU runs `S`; `src + k * src_stride` is valid for `S::LANES` f32 reads for every
/// `k < 16`.
#[inline(always)]
pub(super) unsafe fn output_tile<S: Simd>(src: *const f32, src_stride: usize) -> [S::V; 4] {
    // SAFETY: the loads are `src + (4 i + j) * src_stride` for `i, j < 4`, `LANES` floats
    // each: the addresses the caller vouches for.
    unsafe {
        let mut cols = [[S::zero(); 2]; 4];
        for (j, col) in cols.iter_mut().enumerate() {
            let mut m = [S::zero(); 4];
            for (i, m) in m.iter_mut().enumerate() {
                *m = S::load(src.add((4 * i + j) * src_stride));
            }
            *col = output_1d::<S>(m);
        }
        let [y00, y01] = output_1d::<S>([cols[0][0], cols[1][0], cols[2][0], cols[3][0]]);
        let [y10, y11] = output_1d::<S>([cols[0][1], cols[1][1], cols[2][1], cols[3][1]]);
        [y00, y01, y10, y11]
    }
}

/// `dM = A dY A^T` for one vector of channels, from `dY` `[dY00, dY01, dY10, dY11]`: `dM[i][j]`
/// to `dst + (4 i + j) * dst_stride`.
///
/// # Safety
/// The CPU runs `S`; `dst + k * dst_stride` is valid for `S::LANES` f32 writes for every
/// `k < 16`.
#[inline(always)]
pub(super) unsafe fn output_tile_adjoint<S: Simd>(dy: [S::V; 4], dst: *mut f32, dst_stride: usize) {
    // SAFETY: the stores are `dst + (4 i + j) * dst_stride` for `i, j < 4`, `LANES` floats
    // each: the addresses the caller vouches for.
    unsafe {
        let cols = [
            output_1d_adjoint::<S>([dy[0], dy[2]]),
            output_1d_adjoint::<S>([dy[1], dy[3]]),
        ];
        for i in 0..4 {
            let m = output_1d_adjoint::<S>(cols.map(|col| col[i]));
            for (j, m) in m.into_iter().enumerate() {
                S::store(dst.add((4 * i + j) * dst_stride), m);
            }
        }
    }
}

/// `G g`: a filter's three taps to four transform values along one axis.
fn filter_1d([g0, g1, g2]: [f32; 3]) -> [f32; 4] {
    [g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2]
}

/// `G^T u`: the adjoint of [`filter_1d`].
fn filter_1d_adjoint([u0, u1, u2, u3]: [f32; 4]) -> [f32; 3] {
    [u0 + 0.5 * (u1 + u2), 0.5 * (u1 - u2), 0.5 * (u1 + u2) + u3]
}

/// `U = G g G^T` for one 3x3 filter `g` (row-major): the 16 values, row-major.
pub(super) fn filter_tile(g: &[f32]) -> [f32; 16] {
    let cols: [[f32; 4]; 3] = std::array::from_fn(|j| filter_1d([g[j], g[3 + j], g[6 + j]]));
    let mut u = [0.0; 16];
    for i in 0..4 {
        u[4 * i..4 * i + 4].copy_from_slice(&filter_1d([cols[0][i], cols[1][i], cols[2][i]]));
    }
    u
}

/// `dg = G^T dU G`: the 3x3 filter gradient (row-major) of the 16 transform gradients.
pub(super) fn filter_tile_adjoint(du: &[f32; 16]) -> [f32; 9] {
    let cols: [[f32; 3]; 4] =
        std::array::from_fn(|j| filter_1d_adjoint([du[j], du[4 + j], du[8 + j], du[12 + j]]));
    let mut g = [0.0; 9];
    for i in 0..3 {
        g[3 * i..3 * i + 3].copy_from_slice(&filter_1d_adjoint([
            cols[0][i], cols[1][i], cols[2][i], cols[3][i],
        ]));
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sgemm::Scalar;

    /// The 1-D identity behind the tiles: `A^T [(G g) . (B^T d)]` is the correlation of `d`
    /// with `g` at two positions.
    #[test]
    fn one_axis_is_a_correlation() {
        let (d, g) = ([0.5f32, -1.0, 2.0, 3.0], [1.5f32, -0.25, 2.0]);
        // SAFETY: `Scalar` is plain f32 arithmetic, which every CPU runs.
        let v = unsafe { input_1d::<Scalar>(d) };
        let u = filter_1d(g);
        let m: [f32; 4] = std::array::from_fn(|i| u[i] * v[i]);
        // SAFETY: as above.
        let y = unsafe { output_1d::<Scalar>(m) };
        let direct = |o: usize| (0..3).map(|k| d[o + k] * g[k]).sum::<f32>();
        assert_eq!(y, [direct(0), direct(1)]);
    }

    /// Each adjoint is the transpose of its transform: `<T x, y> = <x, T^T y>`.
    #[test]
    fn adjoints_are_transposes() {
        let x = [0.3f32, -1.7, 2.9, 0.4];
        let y4 = [1.1f32, 0.6, -2.3, 0.8];
        let y2 = [-0.7f32, 1.9];
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f32>();
        // SAFETY: `Scalar` is plain f32 arithmetic, which every CPU runs.
        unsafe {
            let (t, ta) = (input_1d::<Scalar>(x), input_1d_adjoint::<Scalar>(y4));
            assert!((dot(&t, &y4) - dot(&x, &ta)).abs() < 1e-5);
            let (t, ta) = (output_1d::<Scalar>(x), output_1d_adjoint::<Scalar>(y2));
            assert!((dot(&t, &y2) - dot(&x, &ta)).abs() < 1e-5);
        }
        let g = [0.3f32, -1.7, 2.9];
        let (t, ta) = (filter_1d(g), filter_1d_adjoint(y4));
        assert!((dot(&t, &y4) - dot(&g, &ta)).abs() < 1e-5);
    }
}
