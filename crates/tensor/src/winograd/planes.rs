//! Copies between the layer's NCHW planes and the NHWC planes the transforms read and write,
//! as 8 x 8 block transposes in registers ([`Simd::transpose8`]), and the tile cells' places in
//! the NHWC planes.

use super::Geometry;
use crate::sgemm::Simd;

/// `dst[j * rows + i] = src[i * cols + j]`: the `[rows, cols]` matrix `src` transposed, in 8 x 8
/// blocks in registers. A whole plane goes at once (`[C, H * W]` to `[H * W, C]`), so only a
/// sliver is left at the edges, which goes through a zeroed 8 x 8 buffer.
///
/// # Safety
/// The CPU runs `S`. (The sizes are asserted, so slices too short panic.)
#[inline(always)]
pub(super) unsafe fn transpose<S: Simd>(
    src: &[f32],
    (rows, cols): (usize, usize),
    dst: &mut [f32],
) {
    assert!(src.len() >= rows * cols && dst.len() >= rows * cols);
    let (src, dst) = (src.as_ptr(), dst.as_mut_ptr());
    for i0 in (0..rows).step_by(8) {
        for j0 in (0..cols).step_by(8) {
            let (rn, cn) = ((rows - i0).min(8), (cols - j0).min(8));
            // SAFETY: the CPU runs `S` (this function's contract). Block `(i0, j0)` covers rows
            // `i0..i0 + rn` and columns `j0..j0 + cn` of `src`, inside its asserted `rows *
            // cols` floats, and the transposed rows `j0..j0 + cn`, columns `i0..i0 + rn` of
            // `dst`. A whole block gives `transpose8` eight source rows of 8 floats (`src + i *
            // cols`) and eight destination rows of 8 (`dst + k * rows`, `i0 + 8 <= rows`); an
            // edge block goes through the 64-float stack buffers, rows 8 apart, and copies
            // only its `rn x cn` corner.
            unsafe {
                let (src, dst) = (src.add(i0 * cols + j0), dst.add(j0 * rows + i0));
                if (rn, cn) == (8, 8) {
                    S::transpose8(std::array::from_fn(|i| src.add(i * cols)), dst, rows);
                    continue;
                }
                let (mut block, mut turned) = ([0.0f32; 64], [0.0f32; 64]);
                for i in 0..rn {
                    for j in 0..cn {
                        block[i * 8 + j] = *src.add(i * cols + j);
                    }
                }
                let block_rows = std::array::from_fn(|i| block.as_ptr().add(i * 8));
                S::transpose8(block_rows, turned.as_mut_ptr(), 8);
                for j in 0..cn {
                    for i in 0..rn {
                        *dst.add(j * rows + i) = turned[j * 8 + i];
                    }
                }
            }
        }
    }
}

/// `masked = d_y` where `y > 0`, else 0: the gradient through ReLU's derivative.
#[inline(always)]
pub(super) fn relu_masked(d_y: &[f32], y: &[f32], masked: &mut [f32]) {
    for ((m, &d), &y) in masked.iter_mut().zip(d_y).zip(y) {
        *m = if y > 0.0 { d } else { 0.0 };
    }
}

/// Where the 16 cells of tile `(ty, tx)` lie in a sample's NHWC input `[H, W, C]`: the offset
/// of each cell's channels, or `None` for a cell in the padding.
pub(super) fn input_cells(g: &Geometry, ty: usize, tx: usize) -> [Option<usize>; 16] {
    let win = &g.win;
    std::array::from_fn(|k| {
        let iy = (2 * ty + k / 4)
            .checked_sub(win.pad_top)
            .filter(|&r| r < win.in_h)?;
        let ix = (2 * tx + k % 4)
            .checked_sub(win.pad_left)
            .filter(|&c| c < win.in_w)?;
        Some((iy * win.in_w + ix) * g.c)
    })
}

/// Where the 2x2 outputs of tile `(ty, tx)` lie in a sample's NHWC output `[OH, OW, F]`, or
/// `None` past the output (odd sizes cut the last tiles).
pub(super) fn output_cells(g: &Geometry, ty: usize, tx: usize) -> [Option<usize>; 4] {
    let win = &g.win;
    std::array::from_fn(|k| {
        let (oy, ox) = (2 * ty + k / 2, 2 * tx + k % 2);
        (oy < win.out_h && ox < win.out_w).then_some((oy * win.out_w + ox) * g.f)
    })
}
