//! `Window2d`: the geometry shared by convolution and pooling (kernel, stride, padding).

use serde::{Deserialize, Serialize};

use crate::{Result, TensorError};

/// The largest input size, kernel, stride or padding a window accepts (2^24).
pub const MAX_EXTENT: usize = 1 << 24;

/// How a sliding window treats the borders of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: only windows that fit entirely inside the input (Keras `"valid"`).
    Valid,
    /// Pad so that the output has `ceil(input / stride)` positions (Keras `"same"`); when the
    /// total padding is odd, the extra row or column goes at the bottom or right, as in
    /// TensorFlow and ONNX `SAME_UPPER`.
    Same,
    /// Explicit padding `[top, left, bottom, right]` (PyTorch style).
    Explicit([usize; 4]),
}

/// The geometry of a 2-D sliding window over an `H x W` plane.
///
/// ```
/// use neurite_tensor::{Padding, Window2d};
/// let w = Window2d::new((28, 28), (3, 3), (1, 1), Padding::Valid).unwrap();
/// assert_eq!((w.out_h, w.out_w), (26, 26));
/// let s = Window2d::new((28, 28), (3, 3), (2, 2), Padding::Same).unwrap();
/// assert_eq!((s.out_h, s.out_w), (14, 14));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Vertical step between windows.
    pub stride_h: usize,
    /// Horizontal step between windows.
    pub stride_w: usize,
    /// Rows of padding above the input.
    pub pad_top: usize,
    /// Columns of padding left of the input.
    pub pad_left: usize,
    /// Rows of padding below the input.
    pub pad_bottom: usize,
    /// Columns of padding right of the input.
    pub pad_right: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

impl Window2d {
    /// The geometry for an `(h, w)` input, `(kh, kw)` window and `(sh, sw)` stride.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for a zero kernel or stride, or a window larger than the
    /// padded input.
    pub fn new(
        input: (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Self> {
        const OP: &str = "Window2d";
        if kernel.0 == 0 || kernel.1 == 0 {
            return Err(TensorError::invalid(
                OP,
                "kernel",
                format!("{kernel:?}"),
                "must be at least 1x1",
            ));
        }
        if stride.0 == 0 || stride.1 == 0 {
            return Err(TensorError::invalid(
                OP,
                "stride",
                format!("{stride:?}"),
                "must be at least 1",
            ));
        }
        // Every extent is bounded so that no window arithmetic below can overflow, whatever a
        // model file or a caller asks for.
        let explicit = match padding {
            Padding::Explicit(p) => p,
            _ => [0; 4],
        };
        let extents = [input.0, input.1, kernel.0, kernel.1, stride.0, stride.1];
        if let Some(&big) = extents.iter().chain(&explicit).find(|&&v| v > MAX_EXTENT) {
            return Err(TensorError::invalid(
                OP,
                "extent",
                big,
                format!("input, kernel, stride and padding must each be at most {MAX_EXTENT}"),
            ));
        }
        if input.0 == 0 || input.1 == 0 {
            return Err(TensorError::invalid(
                OP,
                "input",
                format!("{input:?}"),
                "must be non-empty",
            ));
        }
        let (pad_top, pad_bottom) = pads(input.0, kernel.0, stride.0, padding, 0);
        let (pad_left, pad_right) = pads(input.1, kernel.1, stride.1, padding, 1);
        let padded_h = input.0 + pad_top + pad_bottom;
        let padded_w = input.1 + pad_left + pad_right;
        if kernel.0 > padded_h || kernel.1 > padded_w {
            return Err(TensorError::invalid(
                OP,
                "kernel",
                format!("{kernel:?}"),
                format!("is larger than the padded input {padded_h}x{padded_w}"),
            ));
        }
        Ok(Window2d {
            in_h: input.0,
            in_w: input.1,
            kernel_h: kernel.0,
            kernel_w: kernel.1,
            stride_h: stride.0,
            stride_w: stride.1,
            pad_top,
            pad_left,
            pad_bottom,
            pad_right,
            out_h: (padded_h - kernel.0) / stride.0 + 1,
            out_w: (padded_w - kernel.1) / stride.1 + 1,
        })
    }

    /// Whether the window is one [`Window2d::new`] builds: its padding and output size are the
    /// ones that follow from its input, kernel, stride and padding. The fields are public, so
    /// a window can be written or edited by hand (`Window2d { out_h: 30, ..win }`); the views
    /// and kernels that address memory through them ([`MatRef::im2col`](crate::MatRef::im2col),
    /// [`MatMut::col2im`](crate::MatMut::col2im), [`ConvReluPool`](crate::ConvReluPool)) rely
    /// on this, which `conv::check_plane` checks for all of them.
    pub(crate) fn is_consistent(&self) -> bool {
        let pads = [self.pad_top, self.pad_left, self.pad_bottom, self.pad_right];
        Window2d::new(
            (self.in_h, self.in_w),
            (self.kernel_h, self.kernel_w),
            (self.stride_h, self.stride_w),
            Padding::Explicit(pads),
        )
        .is_ok_and(|built| built == *self)
    }

    /// Number of output positions per plane (`out_h * out_w`).
    pub fn out_len(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Number of input positions per plane (`in_h * in_w`).
    pub fn in_len(&self) -> usize {
        self.in_h * self.in_w
    }

    /// Number of positions in one window (`kernel_h * kernel_w`).
    pub fn kernel_len(&self) -> usize {
        self.kernel_h * self.kernel_w
    }

    /// The input row read by output row `oy` at window row `ky`, or None in the padding.
    #[inline]
    pub fn input_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.stride_h + ky)
            .checked_sub(self.pad_top)
            .filter(|&y| y < self.in_h)
    }

    /// The input column read by output column `ox` at window column `kx`, or None in the padding.
    #[inline]
    pub fn input_col(&self, ox: usize, kx: usize) -> Option<usize> {
        (ox * self.stride_w + kx)
            .checked_sub(self.pad_left)
            .filter(|&x| x < self.in_w)
    }
}

/// Padding before and after along one axis (`which` indexes the explicit array: 0 rows, 1 cols).
fn pads(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: Padding,
    which: usize,
) -> (usize, usize) {
    match padding {
        Padding::Valid => (0, 0),
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + kernel).saturating_sub(input);
            (total / 2, total - total / 2)
        }
        Padding::Explicit(p) => (p[which], p[which + 2]),
    }
}
