//! `Conv2D`: 2-D convolution over NCHW batches as im2col + GEMM, with two strategies.
//!
//! - **Per sample** (planes of at least [`PER_SAMPLE_MIN_POSITIONS`] output positions): each
//!   sample is unfolded into `[C * KH * KW, OH * OW]` and multiplied by the weight `[F, C * KH *
//!   KW]` straight into its NCHW output, samples in parallel, one single-threaded GEMM each.
//! - **Wide** (small planes): the batch is unfolded into one `[C * KH * KW, N * OH * OW]` matrix,
//!   multiplied in one GEMM split over all threads, then scattered to NCHW. A per-sample product
//!   with only 9 columns (the third convolution of the reference CNN) wastes the GEMM kernel.
//!
//! Measured forward on the reference CNN's shapes, batch 64, 2 threads (`cargo run --release -p
//! neurite-layers --example conv_strategy`, best of 30, on a loaded machine): first conv
//! per-sample 0.39 ms vs wide 0.76 ms; second 3.54 vs 5.27 ms; third 2.55 vs 1.67 ms.
//!
//! Backward: per sample, `d_W` is accumulated by fixed chunks of [`DW_CHUNK`] samples into
//! partial sums added in chunk order (deterministic whatever the thread count), `d_cols = W^T
//! d_Z` per sample, then col2im. Wide: `d_W += d_Z cols^T` as one GEMM after gathering `d_Z` to
//! `[F, N * OH * OW]`, `d_cols = W^T d_Z`, col2im.

use ndarray::{ArrayViewD, Axis, Ix2, Ix3, Ix4, Zip};
use neurite_tensor::{
    Fans, Float, Initializer, Padding, Param, Rng, Tensor, Transpose, Window2d, col2im_batch,
    col2im_wide, gemm, gemm_serial, im2col_batch, im2col_wide,
};
use rayon::prelude::*;

/// Output planes with at least this many positions use one GEMM per sample; smaller ones use
/// one wide GEMM for the batch (see the module docs for the measurements).
pub const PER_SAMPLE_MIN_POSITIONS: usize = 64;

/// Samples per partial weight gradient in the per-sample backward pass. Fixed, so the order of
/// the sums (and the result, bit for bit) does not depend on the thread count.
pub const DW_CHUNK: usize = 8;
use serde::{Deserialize, Serialize};

use crate::error::{TensorContext, fmt_batch_shape};
use crate::layer::{activation_fingerprint, check_batch, check_grad, empty, ensure_shape};
use crate::{Activation, Backward, Layer, LayerConfig, LayerError, Mode, Result};

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
    /// Unfolded input (kept for the weight gradient): `[N, C * KH * KW, OH * OW]` per sample,
    /// `[C * KH * KW, N * OH * OW]` wide.
    cols: Tensor<F>,
    /// Partial weight gradients `[chunks, F, C * KH * KW]` (per-sample strategy).
    partials: Tensor<F>,
    /// The GEMM result `[F, N * OH * OW]`, or its gradient in backward.
    wide: Tensor<F>,
    /// Pre-activation `[N, F, OH, OW]`.
    z: Tensor<F>,
    /// Output `[N, F, OH, OW]`.
    y: Tensor<F>,
    d_z: Tensor<F>,
    d_cols: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
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
            cols: empty(),
            partials: empty(),
            wide: empty(),
            z: empty(),
            y: empty(),
            d_z: empty(),
            d_cols: empty(),
            d_x: empty(),
            cached: false,
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

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        let win = self.window(input_shape)?;
        Ok(vec![self.cfg.filters, win.out_h, win.out_w])
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
        let describe = || describe(&self.cfg);
        let (sample, win) = self
            .built
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), &sample)?;
        let x = input.into_dimensionality::<Ix4>().expect("rank checked");
        let (n, f) = (x.shape()[0], self.cfg.filters);
        let (ckk, p) = (sample[0] * win.kernel_len(), win.out_len());
        if p >= PER_SAMPLE_MIN_POSITIONS {
            ensure_shape(&mut self.cols, &[n, ckk, p]);
            ensure_shape(&mut self.z, &[n, f, win.out_h, win.out_w]);
            ensure_shape(&mut self.y, &[n, f, win.out_h, win.out_w]);
            let cols = self
                .cols
                .view_mut()
                .into_dimensionality::<Ix3>()
                .expect("3-D");
            im2col_batch(x, &win, cols).in_layer(describe)?;
            let w = self.weight.value().as_standard_layout();
            let w = w
                .view()
                .into_shape_with_order((f, ckk))
                .expect("weight is [F, C, KH, KW]");
            let bias = self.bias.as_ref().map(|b| b.value().view());
            let mut z = self
                .z
                .view_mut()
                .into_shape_with_order((n, f, p))
                .expect("standard layout");
            let cols = self.cols.view().into_dimensionality::<Ix3>().expect("3-D");
            Zip::from(z.outer_iter_mut())
                .and(cols.outer_iter())
                .par_for_each(|mut z, cols| {
                    let beta = match &bias {
                        Some(b) => {
                            for (mut row, &b) in z.outer_iter_mut().zip(b.iter()) {
                                row.fill(b);
                            }
                            F::one()
                        }
                        None => F::zero(),
                    };
                    gemm_serial(F::one(), w, Transpose::No, cols, Transpose::No, beta, z)
                        .expect("shapes fixed by build");
                });
            self.cfg
                .activation
                .forward(self.z.view(), self.y.view_mut())
                .in_layer(describe)?;
            self.cached = mode == Mode::Train;
            return Ok(self.y.view());
        }
        ensure_shape(&mut self.cols, &[ckk, n * p]);
        ensure_shape(&mut self.wide, &[f, n * p]);
        ensure_shape(&mut self.z, &[n, f, win.out_h, win.out_w]);
        ensure_shape(&mut self.y, &[n, f, win.out_h, win.out_w]);
        let cols = self
            .cols
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("2-D");
        im2col_wide(x, &win, cols).in_layer(describe)?;
        let w = self.weight.value().as_standard_layout();
        let w = w
            .view()
            .into_shape_with_order((f, ckk))
            .expect("weight is [F, C, KH, KW]");
        let cols = self.cols.view().into_dimensionality::<Ix2>().expect("2-D");
        let wide = self
            .wide
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("2-D");
        gemm(
            F::one(),
            w,
            Transpose::No,
            cols,
            Transpose::No,
            F::zero(),
            wide,
        )
        .in_layer(describe)?;
        // Scatter [F, N, P] into NCHW [N, F, P], adding the bias on the way.
        let wide = self
            .wide
            .view()
            .into_shape_with_order((f, n, p))
            .expect("[F, N*P]");
        let wide = wide.permuted_axes([1, 0, 2]);
        let z = self
            .z
            .view_mut()
            .into_shape_with_order((n, f, p))
            .expect("standard layout");
        match &self.bias {
            Some(b) => {
                let b = b
                    .value()
                    .view()
                    .into_shape_with_order((1, f, 1))
                    .expect("[F]");
                let b = b.broadcast((n, f, p)).expect("broadcast [1, F, 1]");
                Zip::from(z)
                    .and(&wide)
                    .and(&b)
                    .par_for_each(|z, &v, &b| *z = v + b);
            }
            None => Zip::from(z).and(&wide).par_for_each(|z, &v| *z = v),
        }
        self.cfg
            .activation
            .forward(self.z.view(), self.y.view_mut())
            .in_layer(describe)?;
        self.cached = mode == Mode::Train;
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let describe = || describe(&self.cfg);
        let Some((sample, win)) = self.built.filter(|_| self.cached) else {
            return Err(LayerError::NoForwardCache { layer: describe() });
        };
        check_grad(&describe, d_output.shape(), self.y.shape())?;
        let d_z = if opts.from_logits || self.cfg.activation == Activation::Linear {
            d_output
        } else {
            ensure_shape(&mut self.d_z, self.y.shape());
            self.cfg
                .activation
                .backward(self.z.view(), self.y.view(), d_output, self.d_z.view_mut())
                .in_layer(describe)?;
            self.d_z.view()
        };
        let (n, f) = (self.y.shape()[0], self.cfg.filters);
        let (ckk, p) = (sample[0] * win.kernel_len(), win.out_len());
        if p >= PER_SAMPLE_MIN_POSITIONS {
            // Copies only if the caller passed a non-standard layout.
            let d_z = d_z.as_standard_layout();
            let d_z = d_z
                .view()
                .into_shape_with_order((n, f, p))
                .expect("standard layout");
            let cols = self.cols.view().into_dimensionality::<Ix3>().expect("3-D");
            let chunks = n.div_ceil(DW_CHUNK);
            ensure_shape(&mut self.partials, &[chunks, f, ckk]);
            let mut partials = self
                .partials
                .view_mut()
                .into_dimensionality::<Ix3>()
                .expect("3-D");
            partials
                .axis_iter_mut(Axis(0))
                .into_par_iter()
                .enumerate()
                .for_each(|(k, mut partial)| {
                    let samples = k * DW_CHUNK..((k + 1) * DW_CHUNK).min(n);
                    for (j, s) in samples.enumerate() {
                        let beta = if j == 0 { F::zero() } else { F::one() };
                        let (d_zs, cols_s) =
                            (d_z.index_axis(Axis(0), s), cols.index_axis(Axis(0), s));
                        gemm_serial(
                            F::one(),
                            d_zs,
                            Transpose::No,
                            cols_s,
                            Transpose::Yes,
                            beta,
                            partial.view_mut(),
                        )
                        .expect("shapes fixed by build");
                    }
                });
            let mut d_w = self
                .weight
                .grad_mut()
                .view_mut()
                .into_shape_with_order((f, ckk))
                .expect("[F, CKK]");
            let partials = self
                .partials
                .view()
                .into_dimensionality::<Ix3>()
                .expect("3-D");
            for partial in partials.outer_iter() {
                Zip::from(&mut d_w).and(&partial).for_each(|g, &v| *g += v);
            }
            if let Some(bias) = &mut self.bias {
                for (g, plane) in bias.grad_mut().iter_mut().zip(d_z.axis_iter(Axis(1))) {
                    *g += plane.sum();
                }
            }
            if opts.need_input_grad {
                ensure_shape(&mut self.d_cols, &[n, ckk, p]);
                ensure_shape(&mut self.d_x, &[n, sample[0], sample[1], sample[2]]);
                let w = self.weight.value().as_standard_layout();
                let w = w
                    .view()
                    .into_shape_with_order((f, ckk))
                    .expect("weight is [F, C, KH, KW]");
                let mut d_cols = self
                    .d_cols
                    .view_mut()
                    .into_dimensionality::<Ix3>()
                    .expect("3-D");
                Zip::from(d_cols.outer_iter_mut())
                    .and(d_z.outer_iter())
                    .par_for_each(|d_cols, d_z| {
                        gemm_serial(
                            F::one(),
                            w,
                            Transpose::Yes,
                            d_z,
                            Transpose::No,
                            F::zero(),
                            d_cols,
                        )
                        .expect("shapes fixed by build");
                    });
                self.d_x.fill(F::zero());
                let d_cols = self
                    .d_cols
                    .view()
                    .into_dimensionality::<Ix3>()
                    .expect("3-D");
                let d_x = self
                    .d_x
                    .view_mut()
                    .into_dimensionality::<Ix4>()
                    .expect("4-D");
                col2im_batch(d_cols, &win, d_x).in_layer(describe)?;
            }
            return Ok(());
        }
        // Gather NCHW [N, F, P] into [F, N * P] (the wide layout the GEMMs need).
        {
            // Copies only if the caller passed a non-standard layout.
            let d_z = d_z.as_standard_layout();
            let d_z = d_z
                .view()
                .into_shape_with_order((n, f, p))
                .expect("standard layout");
            let wide = self
                .wide
                .view_mut()
                .into_shape_with_order((f, n, p))
                .expect("[F, N*P]");
            Zip::from(wide.permuted_axes([1, 0, 2]))
                .and(&d_z)
                .par_for_each(|w, &d| *w = d);
        }
        let d_wide = self.wide.view().into_dimensionality::<Ix2>().expect("2-D");
        let cols = self.cols.view().into_dimensionality::<Ix2>().expect("2-D");
        let d_w = self
            .weight
            .grad_mut()
            .view_mut()
            .into_shape_with_order((f, ckk))
            .expect("[F, CKK]");
        gemm(
            F::one(),
            d_wide,
            Transpose::No,
            cols,
            Transpose::Yes,
            F::one(),
            d_w,
        )
        .in_layer(describe)?;
        if let Some(bias) = &mut self.bias {
            for (g, row) in bias.grad_mut().iter_mut().zip(d_wide.axis_iter(Axis(0))) {
                *g += row.sum();
            }
        }
        if opts.need_input_grad {
            ensure_shape(&mut self.d_cols, &[ckk, n * p]);
            ensure_shape(&mut self.d_x, &[n, sample[0], sample[1], sample[2]]);
            let w = self.weight.value().as_standard_layout();
            let w = w
                .view()
                .into_shape_with_order((f, ckk))
                .expect("weight is [F, C, KH, KW]");
            let d_cols = self
                .d_cols
                .view_mut()
                .into_dimensionality::<Ix2>()
                .expect("2-D");
            gemm(
                F::one(),
                w,
                Transpose::Yes,
                d_wide,
                Transpose::No,
                F::zero(),
                d_cols,
            )
            .in_layer(describe)?;
            self.d_x.fill(F::zero());
            let d_cols = self
                .d_cols
                .view()
                .into_dimensionality::<Ix2>()
                .expect("2-D");
            let d_x = self
                .d_x
                .view_mut()
                .into_dimensionality::<Ix4>()
                .expect("4-D");
            col2im_wide(d_cols, &win, d_x).in_layer(describe)?;
        }
        Ok(())
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
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
        activation_fingerprint(self.cfg.activation, &self.z)
    }
}

fn describe(cfg: &Conv2DConfig) -> String {
    format!(
        "Conv2D({}, {}x{}) '{}'",
        cfg.filters, cfg.kernel_size[0], cfg.kernel_size[1], cfg.name
    )
}
