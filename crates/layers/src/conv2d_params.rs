//! The parameter shapes of [`Conv2D`](crate::Conv2D), from its configuration.
//!
//! This belongs in `conv2d/mod.rs` beside the layer; it waits here while the convolution
//! kernels in that directory are being rewritten (a separate change), and moves in with a
//! one-line `fn param_shapes` in `impl Layer for Conv2D`.

use crate::Conv2DConfig;

impl Conv2DConfig {
    /// The parameters a Conv2D layer creates for `input_shape` = `[C, H, W]`: `weight`
    /// `[filters, C, KH, KW]` (the ONNX / PyTorch layout) and, with a bias, `bias` `[filters]`.
    ///
    /// ```
    /// use neurite_layers::{Conv2D, Layer};
    /// let conv = Conv2D::<f32>::new(8, (3, 3));
    /// assert_eq!(
    ///     conv.param_shapes(&[1, 28, 28]),
    ///     vec![("weight", vec![8, 1, 3, 3]), ("bias", vec![8])]
    /// );
    /// ```
    pub fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        let channels = input_shape.first().copied().unwrap_or(0);
        let [kh, kw] = self.kernel_size;
        let mut shapes = vec![("weight", vec![self.filters, channels, kh, kw])];
        if self.use_bias {
            shapes.push(("bias", vec![self.filters]));
        }
        shapes
    }
}
