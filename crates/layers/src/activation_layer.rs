//! Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, ELU, GELU, Softplus, Linear as
//! standalone layers (Keras' `Activation(...)`, `ReLU()`, `Softmax()`, ...).

use ndarray::ArrayViewD;
use neurite_tensor::{Float, Rng, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{TensorContext, fmt_batch_shape};
use crate::layer::{
    activation_fingerprint, check_backward, check_batch, empty, ensure_shape, layer_identity,
};
use crate::{Activation, Backward, Layer, LayerError, Mode, Result};

/// Hyper-parameters of [`ActivationLayer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationConfig {
    /// Layer name (empty: a `Sequential` assigns one from the function: `relu`, `softmax`, ...).
    pub name: String,
    /// The function applied.
    pub activation: Activation,
}

/// Applies an [`Activation`] elementwise (Softmax: along axis 1).
///
/// # Shapes
/// any `[N, ...]` (Softmax needs at least `[N, features]`), output of the same shape.
///
/// ```
/// use neurite_layers::{ActivationLayer, Layer, Mode};
/// let mut softmax = ActivationLayer::<f64>::softmax();
/// softmax.build(&[3], &mut neurite_tensor::Rng::new(0)).unwrap();
/// let x = ndarray::ArrayD::from_shape_vec(vec![1, 3], vec![1.0, 1.0, 1.0]).unwrap();
/// let y = softmax.forward(x.view(), Mode::Infer).unwrap();
/// assert!((y.sum() - 1.0).abs() < 1e-12);
/// ```
pub struct ActivationLayer<F: Float> {
    cfg: ActivationConfig,
    input: Option<Vec<usize>>,
    /// Cached input (Train only).
    x: Tensor<F>,
    y: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> ActivationLayer<F> {
    /// A layer applying `activation`.
    pub fn new(activation: Activation) -> Self {
        Self::from_config(ActivationConfig {
            name: String::new(),
            activation,
        })
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: ActivationConfig) -> Self {
        ActivationLayer {
            cfg,
            input: None,
            x: empty(),
            y: empty(),
            d_x: empty(),
            cached: false,
        }
    }

    /// `ReLU`.
    pub fn relu() -> Self {
        Self::new(Activation::Relu)
    }

    /// `LeakyReLU(alpha)`.
    pub fn leaky_relu(alpha: f64) -> Self {
        Self::new(Activation::LeakyRelu { alpha })
    }

    /// `Sigmoid`.
    pub fn sigmoid() -> Self {
        Self::new(Activation::Sigmoid)
    }

    /// `Tanh`.
    pub fn tanh() -> Self {
        Self::new(Activation::Tanh)
    }

    /// `Softmax` along axis 1.
    pub fn softmax() -> Self {
        Self::new(Activation::Softmax)
    }

    /// `ELU(alpha)`.
    pub fn elu(alpha: f64) -> Self {
        Self::new(Activation::Elu { alpha })
    }

    /// Exact `GELU`.
    pub fn gelu() -> Self {
        Self::new(Activation::Gelu)
    }

    /// The identity (`Activation("linear")`).
    pub fn linear() -> Self {
        Self::new(Activation::Linear)
    }

    /// Names the layer.
    pub fn named(mut self, name: &str) -> Self {
        self.cfg.name = name.to_string();
        self
    }
}

fn describe(cfg: &ActivationConfig) -> String {
    format!("Activation({}) '{}'", cfg.activation.name(), cfg.name)
}

impl<F: Float> Layer<F> for ActivationLayer<F> {
    layer_identity!("Activation", Activation);

    fn default_name(&self) -> &'static str {
        self.cfg.activation.name()
    }

    fn describe(&self) -> String {
        describe(&self.cfg)
    }

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        if self.cfg.activation == Activation::Softmax && input_shape.is_empty() {
            return Err(LayerError::Shape {
                layer: self.describe(),
                expected: String::from("[batch, features, ...] (softmax runs along axis 1)"),
                got: fmt_batch_shape(input_shape),
                hint: String::from("a batch of scalars has no axis to normalise over"),
            });
        }
        Ok(input_shape.to_vec())
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        self.input = Some(input_shape.to_vec());
        self.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let describe = || describe(&self.cfg);
        let sample = self
            .input
            .as_ref()
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), sample)?;
        ensure_shape(&mut self.y, input.shape());
        self.cfg
            .activation
            .forward(input.view(), self.y.view_mut())
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
        if !opts.need_input_grad {
            return Ok(());
        }
        ensure_shape(&mut self.d_x, d_output.shape());
        if opts.from_logits {
            self.d_x.assign(&d_output);
            return Ok(());
        }
        self.cfg
            .activation
            .backward(self.x.view(), self.y.view(), d_output, self.d_x.view_mut())
            .in_layer(describe)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
    }

    fn output_activation(&self) -> Activation {
        self.cfg.activation
    }

    fn kink_fingerprint(&self) -> u64 {
        activation_fingerprint(self.cfg.activation, &self.x)
    }
}
