//! `Conv2D`: 2-D convolution over NCHW batches.
//!
//! This file holds the layer (configuration, building, the [`Layer`] plumbing); the arithmetic,
//! forward next to backward, is in one file per strategy: [`im2col_gemm`], the batch unfolded
//! into one wide matrix and one GEMM per pass, with bias and ReLU fused into the f32 kernel's
//! epilogue; [`winograd`], Winograd's F(2x2, 3x3) for 3x3 stride-1 windows with enough
//! channels, which the layer picks by itself; and [`pooled`], the convolution, ReLU and a
//! following 2x2 max pool as one direct pass, which a `Sequential` picks for first
//! convolutions.

mod im2col_gemm;
mod pooled;
mod winograd;

use ndarray::{ArrayViewD, Ix1, Ix4};
use neurite_tensor::{Fans, Float, Initializer, Padding, Param, Rng, Window2d};
use serde::{Deserialize, Serialize};

use crate::error::{TensorContext, fmt_batch_shape};
use crate::layer::{activation_fingerprint, check_batch, check_grad, empty, fingerprint};
use crate::{Activation, Backward, Layer, LayerConfig, LayerError, Mode, Result};
use im2col_gemm::{Buffers, Geometry};

/// Hyper-parameters of [`Conv2D`] (Keras field names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conv2DConfig {
    /// Layer name (empty: a `Sequential` assigns `conv2d`, `conv2d_1`, ...).
    pub name: String,
    /// Output channels.
    pub filters: usize,
    /// Window `[height, width]`.
    pub kernel_size: [usize; 2],
    /// Step `[vertical, horizontal]`.
    pub strides: [usize; 2],
    /// Border handling (`valid`, `same` or explicit).
    pub padding: Padding,
    /// Activation applied to the convolution plus bias.
    pub activation: Activation,
    /// Whether to add a bias per filter.
    pub use_bias: bool,
    /// Initializer of the weight (Glorot uniform by default).
    pub kernel_initializer: Initializer,
    /// Initializer of the bias (zeros by default).
    pub bias_initializer: Initializer,
}

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

/// A 2-D convolution with an optional fused activation.
///
/// # Shapes
/// input `[N, C, H, W]`, output `[N, F, OH, OW]`, weight `[F, C, KH, KW]` (the ONNX / PyTorch
/// layout), bias `[F]`.
///
/// ```
/// use neurite_layers::{Activation, Conv2D, Layer, Mode};
/// use neurite_tensor::Rng;
/// let mut conv = Conv2D::<f32>::new(8, (3, 3)).activation(Activation::Relu);
/// assert_eq!(conv.build(&[1, 28, 28], &mut Rng::new(0)).unwrap(), vec![8, 26, 26]);
/// let x = ndarray::ArrayD::<f32>::ones(vec![2, 1, 28, 28]);
/// assert_eq!(conv.forward(x.view(), Mode::Infer).unwrap().shape(), &[2, 8, 26, 26]);
/// ```
pub struct Conv2D<F: Float> {
    cfg: Conv2DConfig,
    built: Option<([usize; 3], Window2d)>,
    weight: Param<F>,
    bias: Option<Param<F>>,
    /// Work buffers, reused between batches of the same size.
    bufs: Buffers<F>,
    cached: bool,
    /// The state of a pass fused with the following max pool.
    pooled: pooled::Pooled,
    winograd: winograd::WinogradPass,
}

impl<F: Float> Conv2D<F> {
    /// `filters` output channels with a `kernel` window, stride 1, valid padding, bias, no
    /// activation, Glorot-uniform weight (Keras' defaults).
    pub fn new(filters: usize, kernel: (usize, usize)) -> Self {
        Self::from_config(Conv2DConfig {
            name: String::new(),
            filters,
            kernel_size: [kernel.0, kernel.1],
            strides: [1, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
        })
    }

    /// A layer from its configuration (not built yet).
    pub fn from_config(cfg: Conv2DConfig) -> Self {
        Conv2D {
            cfg,
            built: None,
            weight: Param::new("weight", empty()),
            bias: None,
            bufs: Buffers::default(),
            cached: false,
            pooled: pooled::Pooled::default(),
            winograd: winograd::WinogradPass::default(),
        }
    }

    /// Sets the stride.
    pub fn strides(mut self, strides: (usize, usize)) -> Self {
        self.cfg.strides = [strides.0, strides.1];
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.cfg.padding = padding;
        self
    }

    /// Sets the fused activation.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.cfg.activation = activation;
        self
    }

    /// Enables or disables the bias.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.cfg.use_bias = use_bias;
        self
    }

    /// Sets the weight initializer.
    pub fn kernel_initializer(mut self, init: Initializer) -> Self {
        self.cfg.kernel_initializer = init;
        self
    }

    /// Names the layer.
    pub fn named(mut self, name: &str) -> Self {
        self.cfg.name = name.to_string();
        self
    }

    fn window(&self, input_shape: &[usize]) -> Result<Window2d> {
        let cfg = &self.cfg;
        let config_error = |name, value: String, reason: &str| LayerError::Config {
            layer: describe(cfg),
            name,
            value,
            reason: reason.to_string(),
        };
        if cfg.filters == 0 {
            return Err(config_error("filters", "0".into(), "must be at least 1"));
        }
        if cfg.kernel_size.contains(&0) {
            return Err(config_error(
                "kernel_size",
                format!("{:?}", cfg.kernel_size),
                "must be at least 1x1",
            ));
        }
        if cfg.strides.contains(&0) {
            return Err(config_error(
                "strides",
                format!("{:?}", cfg.strides),
                "must be at least 1",
            ));
        }
        let shape_error = |hint: String| LayerError::Shape {
            layer: describe(cfg),
            expected: String::from("[batch, channels, height, width] (NCHW)"),
            got: fmt_batch_shape(input_shape),
            hint,
        };
        let &[c, h, w] = input_shape else {
            let hint = if input_shape.len() == 2 {
                "add a channel axis, e.g. Reshape([1, height, width])"
            } else {
                "Conv2D takes 4-D NCHW batches"
            };
            return Err(shape_error(hint.to_string()));
        };
        if c == 0 {
            return Err(shape_error(String::from("the input has no channels")));
        }
        let [kh, kw] = cfg.kernel_size;
        let [sh, sw] = cfg.strides;
        Window2d::new((h, w), (kh, kw), (sh, sw), cfg.padding)
            .map_err(|e| shape_error(format!("{e}; use padding 'same' or a smaller kernel")))
    }
}

impl<F: Float> Conv2D<F> {
    /// The sizes of a batch `[N, C, H, W]`, checked against the built input shape.
    fn geometry(&self, batch: &[usize]) -> Result<Geometry> {
        let describe = || describe(&self.cfg);
        let (sample, win) = self
            .built
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, batch, &sample)?;
        Ok(Geometry {
            n: batch[0],
            c: sample[0],
            f: self.cfg.filters,
            win,
        })
    }
}

impl<F: Float> Layer<F> for Conv2D<F> {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn set_name(&mut self, name: &str) {
        self.cfg.name = name.to_string();
    }

    fn class_name(&self) -> &'static str {
        "Conv2D"
    }

    fn default_name(&self) -> &'static str {
        "conv2d"
    }

    fn describe(&self) -> String {
        describe(&self.cfg)
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Conv2D(self.cfg.clone())
    }

    fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        self.cfg.param_shapes(input_shape)
    }

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        let win = self.window(input_shape)?;
        Ok(vec![self.cfg.filters, win.out_h, win.out_w])
    }

    fn footprint(&self, input_shape: &[usize], output_shape: &[usize]) -> crate::Footprint {
        use crate::footprint::product;
        // Weight [F, C, KH, KW] and bias [F]; per sample the output and the unfolded input
        // (C * KH * KW rows, one column per output position).
        let [kh, kw] = self.cfg.kernel_size;
        let f = self.cfg.filters as u128;
        let ckk = product(&[input_shape.first().copied().unwrap_or(0), kh, kw]);
        let positions = product(output_shape.get(1..).unwrap_or(&[]));
        crate::Footprint {
            params: f
                .saturating_mul(ckk)
                .saturating_add(if self.cfg.use_bias { f } else { 0 }),
            per_sample: product(output_shape).saturating_add(ckk.saturating_mul(positions)),
        }
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let win = self.window(input_shape)?;
        let out = vec![self.cfg.filters, win.out_h, win.out_w];
        let input = [input_shape[0], input_shape[1], input_shape[2]];
        if self.built.map(|(shape, _)| shape) == Some(input) {
            return Ok(out);
        }
        let (f, c) = (self.cfg.filters, input[0]);
        let [kh, kw] = self.cfg.kernel_size;
        let fans = Fans::conv2d(f, c, kh, kw);
        let describe = || describe(&self.cfg);
        let w = self
            .cfg
            .kernel_initializer
            .init(&[f, c, kh, kw], fans, rng)
            .in_layer(describe)?;
        self.weight = Param::new("weight", w);
        self.bias = if self.cfg.use_bias {
            let b = self
                .cfg
                .bias_initializer
                .init(&[f], fans, rng)
                .in_layer(describe)?;
            Some(Param::new("bias", b))
        } else {
            None
        };
        self.built = Some((input, win));
        self.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let geometry = self.geometry(input.shape())?;
        let x = input.into_dimensionality::<Ix4>().expect("rank checked");
        self.pooled.trained = None;
        if self.forward_winograd(&geometry, x.view(), mode)? {
            self.cached = mode == Mode::Train;
            return Ok(self.bufs.y.view().into_dyn());
        }
        let describe = || describe(&self.cfg);
        let weight = weight_matrix(self.weight.value());
        let bias = self
            .bias
            .as_ref()
            .map(|b| b.value().view().into_dimensionality::<Ix1>().expect("[F]"));
        im2col_gemm::forward(
            &geometry,
            x,
            weight,
            bias,
            self.cfg.activation,
            mode == Mode::Train,
            &mut self.bufs,
        )
        .in_layer(describe)?;
        self.cached = mode == Mode::Train;
        Ok(self.bufs.y.view().into_dyn())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.bufs.y.view().into_dyn()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let describe = || describe(&self.cfg);
        if !self.cached {
            return Err(LayerError::NoForwardCache { layer: describe() });
        }
        check_grad(&describe, d_output.shape(), self.bufs.y.shape())?;
        let input = self
            .built
            .map(|(sample, _)| sample)
            .expect("cached implies built");
        let mut input_shape = vec![self.bufs.y.shape()[0]];
        input_shape.extend_from_slice(&input);
        let geometry = self.geometry(&input_shape)?;
        if self.winograd.trained {
            return self.backward_winograd(&geometry, d_output, opts);
        }
        let d_y = d_output
            .into_dimensionality::<Ix4>()
            .expect("shape checked");
        let ckk = input[0] * geometry.win.kernel_len();
        let (weight, d_w) = self.weight.value_and_grad_mut();
        let weight = weight
            .view()
            .into_shape_with_order((geometry.f, ckk))
            .expect("the weight is created in standard layout");
        let d_w = d_w
            .view_mut()
            .into_shape_with_order((geometry.f, ckk))
            .expect("[F, CKK]");
        let d_b = self.bias.as_mut().map(|b| {
            b.grad_mut()
                .view_mut()
                .into_dimensionality::<Ix1>()
                .expect("[F]")
        });
        im2col_gemm::backward(
            &geometry,
            d_y,
            weight,
            self.cfg.activation,
            opts.from_logits,
            opts.need_input_grad,
            d_w,
            d_b,
            &mut self.bufs,
        )
        .in_layer(describe)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.bufs.d_x.view().into_dyn()
    }

    fn params(&self) -> Vec<&Param<F>> {
        std::iter::once(&self.weight)
            .chain(self.bias.as_ref())
            .collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param<F>> {
        std::iter::once(&mut self.weight)
            .chain(self.bias.as_mut())
            .collect()
    }

    fn output_activation(&self) -> Activation {
        self.cfg.activation
    }

    fn kink_fingerprint(&self) -> u64 {
        if let Some(winners) = self.fused_winners() {
            // Fused with the pool: each window's winner, or that none passes a gradient.
            return fingerprint(winners.iter().map(|&w| u64::from(w.to_bits())));
        }
        // ReLU and linear outputs are written without z; for ReLU y > 0 exactly where z > 0.
        let z = match self.cfg.activation {
            Activation::Relu | Activation::Linear => &self.bufs.y,
            _ => &self.bufs.z,
        };
        activation_fingerprint(self.cfg.activation, z.iter())
    }
}

fn describe(cfg: &Conv2DConfig) -> String {
    format!(
        "Conv2D({}, {}x{}) '{}'",
        cfg.filters, cfg.kernel_size[0], cfg.kernel_size[1], cfg.name
    )
}

/// A layer's bias as f32 values, for the f32-only strategies (`None` without a bias).
///
/// # Panics
/// If `F` is not f32: callers have already viewed the weight as f32.
fn bias_f32<F: Float>(bias: &Option<Param<F>>) -> Option<&[f32]> {
    let b = bias.as_ref()?.value().view();
    let b = F::as_f32(b.into_dimensionality::<Ix1>().expect("[F]"));
    Some(
        b.expect("f32 like the weight")
            .to_slice()
            .expect("a bias is contiguous"),
    )
}

/// A layer's bias gradient as f32 values (`None` without a bias).
///
/// # Panics
/// If `F` is not f32, as [`bias_f32`].
fn bias_grad_f32<F: Float>(bias: &mut Option<Param<F>>) -> Option<&mut [f32]> {
    let d_b = bias.as_mut()?.grad_mut().view_mut();
    let d_b = F::as_f32_mut(d_b.into_dimensionality::<Ix1>().expect("[F]"));
    Some(
        d_b.expect("f32")
            .into_slice()
            .expect("a bias is contiguous"),
    )
}

/// The input gradient buffer, sized `[N, C, H, W]`, as f32, when it is wanted.
///
/// # Panics
/// If `F` is not f32, as [`bias_f32`].
fn input_grad_f32<F: Float>(
    d_x: &mut ndarray::Array4<F>,
    shape: [usize; 4],
    wanted: bool,
) -> Option<ndarray::ArrayViewMut4<'_, f32>> {
    if !wanted {
        return None;
    }
    im2col_gemm::resize(d_x, ndarray::Dim(shape));
    Some(F::as_f32_mut(d_x.view_mut()).expect("f32"))
}

/// The weight `[F, C, KH, KW]` as the matrix `[F, C * KH * KW]` (it is stored standard, so this
/// is a view, not a copy).
fn weight_matrix<F: Float>(w: &neurite_tensor::Tensor<F>) -> ndarray::ArrayView2<'_, F> {
    let rows = w.shape()[0];
    let cols = w.len() / rows.max(1);
    w.view()
        .into_shape_with_order((rows, cols))
        .expect("the weight is created in standard layout")
}
