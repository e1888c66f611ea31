//! `Dense`: a fully connected layer, `y = act(x W^T + b)`.
//!
//! The weight is stored `[units, inputs]`, as PyTorch's `Linear` and ONNX `Gemm(transB=1)` keep
//! it, so export copies it unchanged. Keras stores the transpose `[inputs, units]`; the parameter
//! count is the same.

use ndarray::{ArrayView2, ArrayViewD, Axis, Ix2, Zip};
use neurite_tensor::{
    Bias, Epilogue, Fans, Float, Initializer, MatMut, MatRef, Param, Rng, Tensor, Transpose, gemm,
    sgemm,
};
use serde::{Deserialize, Serialize};

use crate::error::{TensorContext, fmt_batch_shape};
use crate::footprint::product;
use crate::layer::{
    activation_fingerprint, check_backward, check_batch, empty, ensure_shape, layer_identity,
};
use crate::{Activation, Backward, Footprint, Layer, LayerError, Mode, Result};

/// Hyper-parameters of [`Dense`] (Keras field names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseConfig {
    /// Layer name (empty: a `Sequential` assigns `dense`, `dense_1`, ...).
    pub name: String,
    /// Output features.
    pub units: usize,
    /// Activation applied to `x W^T + b`.
    pub activation: Activation,
    /// Whether to add a bias.
    pub use_bias: bool,
    /// Initializer of the weight (Glorot uniform by default).
    pub kernel_initializer: Initializer,
    /// Initializer of the bias (zeros by default).
    pub bias_initializer: Initializer,
}

impl DenseConfig {
    /// The parameters a Dense layer creates for `input_shape` = `[inputs]`: `weight`
    /// `[units, inputs]` and, with a bias, `bias` `[units]`.
    ///
    /// ```
    /// use neurite_layers::{Dense, Layer};
    /// let dense = Dense::<f32>::new(3);
    /// assert_eq!(
    ///     dense.param_shapes(&[4]),
    ///     vec![("weight", vec![3, 4]), ("bias", vec![3])]
    /// );
    /// ```
    pub fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        let inputs = input_shape.first().copied().unwrap_or(0);
        let mut shapes = vec![("weight", vec![self.units, inputs])];
        if self.use_bias {
            shapes.push(("bias", vec![self.units]));
        }
        shapes
    }
}

/// A fully connected layer with an optional fused activation.
///
/// # Shapes
/// input `[N, inputs]`, output `[N, units]`, weight `[units, inputs]`, bias `[units]`.
///
/// ```
/// use neurite_layers::{Activation, Dense, Layer, Mode};
/// use neurite_tensor::Rng;
/// let mut dense = Dense::<f32>::new(3).activation(Activation::Relu);
/// assert_eq!(dense.build(&[4], &mut Rng::new(0)).unwrap(), vec![3]);
/// let x = ndarray::ArrayD::<f32>::ones(vec![2, 4]);
/// let y = dense.forward(x.view(), Mode::Infer).unwrap();
/// assert_eq!(y.shape(), &[2, 3]);
/// assert!(y.iter().all(|&v| v >= 0.0));
/// ```
pub struct Dense<F: Float> {
    cfg: DenseConfig,
    inputs: Option<usize>,
    weight: Param<F>,
    bias: Option<Param<F>>,
    /// Cached input `[N, inputs]` (Train only).
    x: Tensor<F>,
    /// Pre-activation `[N, units]`.
    z: Tensor<F>,
    /// Output `[N, units]`.
    y: Tensor<F>,
    d_z: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> Dense<F> {
    /// `units` outputs with Keras' defaults: no activation, a bias, Glorot-uniform weight.
    pub fn new(units: usize) -> Self {
        Self::from_config(DenseConfig {
            name: String::new(),
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
        })
    }

    /// A layer from its configuration (not built yet).
    pub fn from_config(cfg: DenseConfig) -> Self {
        Dense {
            cfg,
            inputs: None,
            weight: Param::new("weight", empty()),
            bias: None,
            x: empty(),
            z: empty(),
            y: empty(),
            d_z: empty(),
            d_x: empty(),
            cached: false,
        }
    }

    neurite_tensor::builder_setters! {
        in cfg;
        /// Sets the fused activation.
        activation: Activation,
        /// Enables or disables the bias.
        use_bias: bool,
        /// Sets the weight initializer.
        kernel_initializer: Initializer,
        /// Sets the bias initializer.
        bias_initializer: Initializer,
    }

    /// Names the layer.
    pub fn named(mut self, name: &str) -> Self {
        self.cfg.name = name.to_string();
        self
    }

    fn shape_error(&self, got: String, hint: &str) -> LayerError {
        LayerError::Shape {
            layer: self.describe(),
            expected: String::from("[batch, features]"),
            got,
            hint: hint.to_string(),
        }
    }
}

impl<F: Float> Layer<F> for Dense<F> {
    layer_identity!("Dense", "dense", Dense);

    fn describe(&self) -> String {
        describe(&self.cfg)
    }

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        if self.cfg.units == 0 {
            return Err(LayerError::Config {
                layer: self.describe(),
                name: "units",
                value: String::from("0"),
                reason: String::from("must be at least 1"),
            });
        }
        match input_shape {
            [features] if *features > 0 => Ok(vec![self.cfg.units]),
            [_] => Err(self.shape_error(fmt_batch_shape(input_shape), "the input has no features")),
            _ => Err(self.shape_error(
                fmt_batch_shape(input_shape),
                "add Flatten before it (or Reshape to one feature axis)",
            )),
        }
    }

    fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        self.cfg.param_shapes(input_shape)
    }

    fn footprint(&self, input_shape: &[usize], output_shape: &[usize]) -> Footprint {
        let units = self.cfg.units as u128;
        let weight = units.saturating_mul(product(input_shape));
        Footprint {
            params: weight.saturating_add(if self.cfg.use_bias { units } else { 0 }),
            per_sample: product(output_shape),
        }
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        let inputs = input_shape[0];
        if self.inputs == Some(inputs) {
            return Ok(out);
        }
        let units = self.cfg.units;
        let fans = Fans::dense(inputs, units);
        let describe = || describe(&self.cfg);
        let w = self
            .cfg
            .kernel_initializer
            .init(&[units, inputs], fans, rng)
            .in_layer(describe)?;
        self.weight = Param::new("weight", w);
        self.bias = if self.cfg.use_bias {
            let b = self
                .cfg
                .bias_initializer
                .init(&[units], fans, rng)
                .in_layer(describe)?;
            Some(Param::new("bias", b))
        } else {
            None
        };
        self.inputs = Some(inputs);
        self.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let describe = || describe(&self.cfg);
        let inputs = self
            .inputs
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        if input.ndim() != 2 {
            return Err(self.shape_error(
                crate::error::fmt_shape(input.shape()),
                "add Flatten before it (or Reshape to one feature axis)",
            ));
        }
        check_batch(&describe, input.shape(), &[inputs])?;
        let n = input.shape()[0];
        let shape = [n, self.cfg.units];
        ensure_shape(&mut self.y, &shape);
        let x = input
            .view()
            .into_dimensionality::<Ix2>()
            .expect("rank checked");
        let w = self
            .weight
            .value()
            .view()
            .into_dimensionality::<Ix2>()
            .expect("built as 2-D");
        if mode == Mode::Infer && infer_f32(&self.cfg, x, w, &self.bias, &mut self.y)? {
            self.cached = false;
            return Ok(self.y.view());
        }
        ensure_shape(&mut self.z, &shape);
        let mut z = self
            .z
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("shaped above");
        let beta = match &self.bias {
            Some(b) => {
                z.assign(&b.value().broadcast(shape).expect("bias is [units]"));
                F::one()
            }
            None => F::zero(),
        };
        gemm(F::one(), x, Transpose::No, w, Transpose::Yes, beta, z).in_layer(describe)?;
        self.cfg
            .activation
            .forward(self.z.view(), self.y.view_mut())
            .in_layer(describe)?;
        self.cached = mode == Mode::Train;
        if self.cached {
            ensure_shape(&mut self.x, input.shape());
            self.x.assign(&input);
        }
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let describe = || describe(&self.cfg);
        check_backward(&describe, self.cached, d_output.shape(), self.y.shape())?;
        // With no activation to undo (or when the loss already gave d/dlogits), d_z is d_y.
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
        let d_z = d_z.into_dimensionality::<Ix2>().expect("checked against y");
        let x = self
            .x
            .view()
            .into_dimensionality::<Ix2>()
            .expect("cached 2-D");
        let d_w = self
            .weight
            .grad_mut()
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("2-D");
        // d_W[units, inputs] += d_z^T x
        gemm(
            F::one(),
            d_z,
            Transpose::Yes,
            x,
            Transpose::No,
            F::one(),
            d_w,
        )
        .in_layer(describe)?;
        if let Some(bias) = &mut self.bias {
            let mut d_b = bias.grad_mut().view_mut();
            for row in d_z.axis_iter(Axis(0)) {
                Zip::from(&mut d_b)
                    .and(row.into_dyn())
                    .for_each(|g, &d| *g += d);
            }
        }
        if opts.need_input_grad {
            ensure_shape(&mut self.d_x, self.x.shape());
            let w = self
                .weight
                .value()
                .view()
                .into_dimensionality::<Ix2>()
                .expect("2-D");
            let d_x = self
                .d_x
                .view_mut()
                .into_dimensionality::<Ix2>()
                .expect("2-D");
            // d_x[N, inputs] = d_z W
            gemm(
                F::one(),
                d_z,
                Transpose::No,
                w,
                Transpose::No,
                F::zero(),
                d_x,
            )
            .in_layer(describe)?;
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

fn describe(cfg: &DenseConfig) -> String {
    format!("Dense({}) '{}'", cfg.units, cfg.name)
}

/// Inference in f32 with ReLU or no activation: one product whose epilogue adds the bias and
/// applies the activation while each tile is in registers, written straight into `y` (the
/// pre-activation is not kept: nothing goes back through an inference pass). Returns false,
/// having done nothing, for other types and activations.
fn infer_f32<F: Float>(
    cfg: &DenseConfig,
    x: ArrayView2<'_, F>,
    w: ArrayView2<'_, F>,
    bias: &Option<Param<F>>,
    y: &mut Tensor<F>,
) -> Result<bool> {
    let relu = match cfg.activation {
        Activation::Relu => true,
        Activation::Linear => false,
        _ => return Ok(false),
    };
    let mut y = y
        .view_mut()
        .into_dimensionality::<Ix2>()
        .expect("[N, units]");
    let (Some(x), Some(w), Some(y)) = (F::as_f32(x), F::as_f32(w), F::as_f32_mut(y.view_mut()))
    else {
        return Ok(false);
    };
    let bias = match bias {
        Some(b) => {
            let b = F::as_f32(b.value().view()).expect("f32 like the weight");
            Bias::Cols(b.to_slice().expect("a bias is contiguous"))
        }
        None => Bias::None,
    };
    let epilogue = Epilogue::default().bias(bias).relu(relu);
    // y[N, units] = x[N, inputs] W^T
    sgemm(MatRef::new(x), MatRef::new(w.t()), MatMut::new(y), epilogue)
        .in_layer(|| describe(cfg))?;
    Ok(true)
}
