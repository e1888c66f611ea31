//! Pooling layers: `MaxPooling2D`, `AveragePooling2D` and `GlobalAveragePooling2D`, NCHW.

use ndarray::{ArrayViewD, Ix2, Ix4, IxDyn};
use neurite_tensor::{
    Float, Padding, Rng, Tensor, Window2d, avg_pool2d, avg_pool2d_backward, global_avg_pool2d,
    global_avg_pool2d_backward, max_pool2d, max_pool2d_backward,
};
use serde::{Deserialize, Serialize};

use crate::error::{TensorContext, fmt_batch_shape};
use crate::layer::{check_batch, check_grad, empty, ensure_shape, fingerprint, layer_identity};
use crate::{Backward, Layer, LayerError, Mode, Result};

/// Hyper-parameters of a pooling window (Keras field names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pool2DConfig {
    /// Layer name (empty: a `Sequential` assigns one).
    pub name: String,
    /// Window `[height, width]`.
    pub pool_size: [usize; 2],
    /// Step `[vertical, horizontal]` (Keras defaults it to the pool size).
    pub strides: [usize; 2],
    /// Border handling.
    pub padding: Padding,
}

impl Pool2DConfig {
    fn new(pool: (usize, usize)) -> Self {
        Pool2DConfig {
            name: String::new(),
            pool_size: [pool.0, pool.1],
            strides: [pool.0, pool.1],
            padding: Padding::Valid,
        }
    }

    fn window(&self, class: &str, input_shape: &[usize]) -> Result<Window2d> {
        let layer = || describe(class, self);
        for (name, v) in [("pool_size", self.pool_size), ("strides", self.strides)] {
            if v.contains(&0) {
                return Err(LayerError::Config {
                    layer: layer(),
                    name,
                    value: format!("{v:?}"),
                    reason: String::from("must be at least 1"),
                });
            }
        }
        let shape_error = |hint: String| LayerError::Shape {
            layer: layer(),
            expected: String::from("[batch, channels, height, width] (NCHW)"),
            got: fmt_batch_shape(input_shape),
            hint,
        };
        let &[_, h, w] = input_shape else {
            return Err(shape_error(String::from("pooling takes 4-D NCHW batches")));
        };
        let [ph, pw] = self.pool_size;
        let [sh, sw] = self.strides;
        Window2d::new((h, w), (ph, pw), (sh, sw), self.padding)
            .map_err(|e| shape_error(format!("{e}; use padding 'same' or a smaller pool")))
    }
}

fn describe(class: &str, cfg: &Pool2DConfig) -> String {
    format!(
        "{class}({}x{}) '{}'",
        cfg.pool_size[0], cfg.pool_size[1], cfg.name
    )
}

/// Max pooling over each channel plane.
///
/// # Shapes
/// input `[N, C, H, W]`, output `[N, C, OH, OW]`.
///
/// ```
/// use neurite_layers::{Layer, MaxPooling2D, Mode};
/// let mut pool = MaxPooling2D::<f64>::new((2, 2));
/// pool.build(&[1, 2, 2], &mut neurite_tensor::Rng::new(0)).unwrap();
/// let x = ndarray::ArrayD::from_shape_vec(vec![1, 1, 2, 2], vec![1.0, 4.0, 3.0, 2.0]).unwrap();
/// assert_eq!(pool.forward(x.view(), Mode::Infer).unwrap().iter().next(), Some(&4.0));
/// ```
pub struct MaxPooling2D<F: Float> {
    cfg: Pool2DConfig,
    built: Option<([usize; 3], Window2d)>,
    y: Tensor<F>,
    argmax: ndarray::ArrayD<u32>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> MaxPooling2D<F> {
    /// A `pool` window with the stride equal to the window and valid padding (Keras' defaults).
    pub fn new(pool: (usize, usize)) -> Self {
        Self::from_config(Pool2DConfig::new(pool))
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: Pool2DConfig) -> Self {
        MaxPooling2D {
            cfg,
            built: None,
            y: empty(),
            argmax: ndarray::ArrayD::zeros(IxDyn(&[0])),
            d_x: empty(),
            cached: false,
        }
    }

    /// Sets the stride.
    pub fn strides(mut self, strides: (usize, usize)) -> Self {
        self.cfg.strides = [strides.0, strides.1];
        self
    }

    neurite_tensor::builder_setters! {
        in cfg;
        /// Sets the padding.
        padding: Padding,
    }

    /// Whether the built layer pools 2x2 windows with stride 2 and no padding: the pooling
    /// that a preceding Conv2D can compute in its own pass ([`neurite_tensor::ConvReluPool`]).
    pub(crate) fn is_2x2_stride_2(&self) -> bool {
        self.built.is_some_and(|(_, win)| {
            let pads = [win.pad_top, win.pad_left, win.pad_bottom, win.pad_right];
            let sizes = [win.kernel_h, win.kernel_w, win.stride_h, win.stride_w];
            pads == [0; 4] && sizes == [2; 4]
        })
    }

    /// The output buffer, shaped `[N, C, OH, OW]`, for a pass that a preceding Conv2D ran for
    /// this layer. The layer then holds no winners of its own: the convolution keeps them and
    /// back-propagates through both layers, and this layer's own `backward` reports that it
    /// has no forward to go back through.
    pub(crate) fn output_of_fused_pass(&mut self, shape: [usize; 4]) -> &mut Tensor<F> {
        ensure_shape(&mut self.y, &shape);
        self.argmax = ndarray::ArrayD::zeros(IxDyn(&[0]));
        self.cached = false;
        &mut self.y
    }
}

/// The [`Layer`] methods the two 2-D pooling layers share (name, class, configuration, output
/// shape, build): they differ only in their class and in the kernel `forward`/`backward` run.
macro_rules! pool_plumbing {
    ($class:literal, $stem:literal, $variant:ident) => {
        layer_identity!($class, $stem, $variant);

        fn describe(&self) -> String {
            describe($class, &self.cfg)
        }

        fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
            let win = self.cfg.window($class, input_shape)?;
            Ok(vec![input_shape[0], win.out_h, win.out_w])
        }

        fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
            let win = self.cfg.window($class, input_shape)?;
            self.built = Some(([input_shape[0], input_shape[1], input_shape[2]], win));
            self.cached = false;
            Ok(vec![input_shape[0], win.out_h, win.out_w])
        }
    };
}

impl<F: Float> Layer<F> for MaxPooling2D<F> {
    pool_plumbing!("MaxPooling2D", "max_pooling2d", MaxPooling2D);

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let describe = || describe("MaxPooling2D", &self.cfg);
        let (sample, win) = self
            .built
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), &sample)?;
        let shape = [input.shape()[0], sample[0], win.out_h, win.out_w];
        ensure_shape(&mut self.y, &shape);
        let x = input.into_dimensionality::<Ix4>().expect("rank checked");
        let y = self.y.view_mut().into_dimensionality::<Ix4>().expect("4-D");
        // Only training needs the winners' positions; inference skips recording them.
        let argmax = if mode == Mode::Train {
            if self.argmax.shape() != shape {
                self.argmax = ndarray::ArrayD::zeros(IxDyn(&shape));
            }
            let argmax = self.argmax.view_mut();
            Some(argmax.into_dimensionality::<Ix4>().expect("4-D"))
        } else {
            None
        };
        max_pool2d(x, &win, y, argmax).in_layer(describe)?;
        self.cached = mode == Mode::Train;
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let describe = || describe("MaxPooling2D", &self.cfg);
        let Some((sample, win)) = self.built.filter(|_| self.cached) else {
            return Err(LayerError::NoForwardCache { layer: describe() });
        };
        check_grad(&describe, d_output.shape(), self.y.shape())?;
        if !opts.need_input_grad {
            return Ok(());
        }
        ensure_shape(
            &mut self.d_x,
            &[self.y.shape()[0], sample[0], sample[1], sample[2]],
        );
        let d_y = d_output.into_dimensionality::<Ix4>().expect("checked");
        let argmax = self
            .argmax
            .view()
            .into_dimensionality::<Ix4>()
            .expect("4-D");
        let d_x = self
            .d_x
            .view_mut()
            .into_dimensionality::<Ix4>()
            .expect("4-D");
        max_pool2d_backward(d_y, argmax, &win, d_x).in_layer(describe)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
    }

    fn kink_fingerprint(&self) -> u64 {
        fingerprint(self.argmax.iter().map(|&a| u64::from(a)))
    }
}

/// Average pooling over each channel plane (padding cells are not counted).
///
/// # Shapes
/// input `[N, C, H, W]`, output `[N, C, OH, OW]`.
pub struct AveragePooling2D<F: Float> {
    cfg: Pool2DConfig,
    built: Option<([usize; 3], Window2d)>,
    y: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> AveragePooling2D<F> {
    /// A `pool` window with the stride equal to the window and valid padding (Keras' defaults).
    pub fn new(pool: (usize, usize)) -> Self {
        Self::from_config(Pool2DConfig::new(pool))
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: Pool2DConfig) -> Self {
        AveragePooling2D {
            cfg,
            built: None,
            y: empty(),
            d_x: empty(),
            cached: false,
        }
    }

    /// Sets the stride.
    pub fn strides(mut self, strides: (usize, usize)) -> Self {
        self.cfg.strides = [strides.0, strides.1];
        self
    }

    neurite_tensor::builder_setters! {
        in cfg;
        /// Sets the padding.
        padding: Padding,
    }
}

impl<F: Float> Layer<F> for AveragePooling2D<F> {
    pool_plumbing!("AveragePooling2D", "average_pooling2d", AveragePooling2D);

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let describe = || describe("AveragePooling2D", &self.cfg);
        let (sample, win) = self
            .built
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), &sample)?;
        ensure_shape(
            &mut self.y,
            &[input.shape()[0], sample[0], win.out_h, win.out_w],
        );
        let x = input.into_dimensionality::<Ix4>().expect("rank checked");
        let y = self.y.view_mut().into_dimensionality::<Ix4>().expect("4-D");
        avg_pool2d(x, &win, y).in_layer(describe)?;
        self.cached = mode == Mode::Train;
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let describe = || describe("AveragePooling2D", &self.cfg);
        let Some((sample, win)) = self.built.filter(|_| self.cached) else {
            return Err(LayerError::NoForwardCache { layer: describe() });
        };
        check_grad(&describe, d_output.shape(), self.y.shape())?;
        if !opts.need_input_grad {
            return Ok(());
        }
        ensure_shape(
            &mut self.d_x,
            &[self.y.shape()[0], sample[0], sample[1], sample[2]],
        );
        self.d_x.fill(F::zero());
        let d_y = d_output.into_dimensionality::<Ix4>().expect("checked");
        let d_x = self
            .d_x
            .view_mut()
            .into_dimensionality::<Ix4>()
            .expect("4-D");
        avg_pool2d_backward(d_y, &win, d_x).in_layer(describe)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
    }
}

/// Hyper-parameters of a layer that has none but its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NameConfig {
    /// Layer name (empty: a `Sequential` assigns one).
    pub name: String,
}

/// The mean of each channel plane.
///
/// # Shapes
/// input `[N, C, H, W]`, output `[N, C]`.
pub struct GlobalAveragePooling2D<F: Float> {
    cfg: NameConfig,
    built: Option<[usize; 3]>,
    y: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> Default for GlobalAveragePooling2D<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> GlobalAveragePooling2D<F> {
    /// A new layer.
    pub fn new() -> Self {
        Self::from_config(NameConfig::default())
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: NameConfig) -> Self {
        GlobalAveragePooling2D {
            cfg,
            built: None,
            y: empty(),
            d_x: empty(),
            cached: false,
        }
    }
}

impl<F: Float> Layer<F> for GlobalAveragePooling2D<F> {
    layer_identity!(
        "GlobalAveragePooling2D",
        "global_average_pooling2d",
        GlobalAveragePooling2D
    );

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        match input_shape {
            &[c, h, w] if h > 0 && w > 0 => Ok(vec![c]),
            _ => Err(LayerError::Shape {
                layer: self.describe(),
                expected: String::from("[batch, channels, height, width] with non-empty planes"),
                got: fmt_batch_shape(input_shape),
                hint: String::from("global pooling takes 4-D NCHW batches"),
            }),
        }
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        self.built = Some([input_shape[0], input_shape[1], input_shape[2]]);
        self.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let name = &self.cfg.name;
        let describe = || format!("GlobalAveragePooling2D '{name}'");
        let sample = self
            .built
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), &sample)?;
        let x = input.into_dimensionality::<Ix4>().expect("rank checked");
        let pooled = global_avg_pool2d(x);
        ensure_shape(&mut self.y, pooled.shape());
        self.y.assign(&pooled.into_dyn());
        self.cached = mode == Mode::Train;
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let name = &self.cfg.name;
        let describe = || format!("GlobalAveragePooling2D '{name}'");
        let Some(sample) = self.built.filter(|_| self.cached) else {
            return Err(LayerError::NoForwardCache { layer: describe() });
        };
        check_grad(&describe, d_output.shape(), self.y.shape())?;
        if !opts.need_input_grad {
            return Ok(());
        }
        ensure_shape(
            &mut self.d_x,
            &[self.y.shape()[0], sample[0], sample[1], sample[2]],
        );
        self.d_x.fill(F::zero());
        let d_y = d_output.into_dimensionality::<Ix2>().expect("checked");
        let d_x = self
            .d_x
            .view_mut()
            .into_dimensionality::<Ix4>()
            .expect("4-D");
        global_avg_pool2d_backward(d_y, d_x).in_layer(describe)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
    }
}
