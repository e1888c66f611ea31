//! `Sequential`: a list of layers run one after the other.

use ndarray::ArrayViewD;
use neurite_tensor::{Float, Rng};
use serde::{Deserialize, Serialize};

use crate::error::fmt_batch_shape;
use crate::footprint::{self, DEFAULT_MAX_BYTES, ModelBytes};
use crate::fusion;
use crate::sequential_params::full_param_name;
use crate::{Activation, Backward, Layer, LayerConfig, LayerError, Mode, Result, Summary};

/// The architecture of a [`Sequential`]: what model files store next to the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialConfig {
    /// Per-sample input shape (no batch axis), e.g. `[1, 28, 28]`.
    pub input_shape: Vec<usize>,
    /// Seed of the initializers and dropout masks.
    pub seed: u64,
    /// The layers, in order.
    pub layers: Vec<LayerConfig>,
}

/// A stack of layers: the output of each is the input of the next.
///
/// Layers added without a name get Keras-style unique ones (`dense`, `dense_1`, ...).
/// [`Sequential::build`] fixes the per-sample input shape, checks every layer's shape before
/// any data flows and creates the parameters; layer `i` draws its initial weights (or its dropout
/// masks) from `Rng::with_stream(seed, i)`, so a seed fixes the whole model.
///
/// # Training step
/// ```
/// use neurite_layers::{Activation, Dense, Flatten, Mode, Sequential};
/// let mut model = Sequential::<f32>::with_seed(42)
///     .add(Flatten::new())
///     .add(Dense::new(16).activation(Activation::Relu))
///     .add(Dense::new(10).activation(Activation::Softmax));
/// model.build(&[1, 28, 28]).unwrap();
/// let x = ndarray::ArrayD::<f32>::zeros(vec![8, 1, 28, 28]);
/// let probs = model.forward(x.view(), Mode::Train).unwrap().to_owned();
/// assert_eq!(probs.shape(), &[8, 10]);
/// // A loss gives d(loss)/d(logits) = (p - y) / N for softmax + cross-entropy:
/// let d_logits = probs.mapv(|p| p / 8.0);
/// model.zero_grad();
/// model.backward_from_logits(d_logits.view()).unwrap();
/// assert_eq!(model.params().len(), 4);
/// assert_eq!(model.params()[0].0, "dense.weight");
/// ```
pub struct Sequential<F: Float> {
    layers: Vec<Box<dyn Layer<F>>>,
    seed: u64,
    /// The per-sample input shape declared with `with_input_shape`, built at `Model` compile.
    declared_input: Option<Vec<usize>>,
    /// Per-sample input shape and the output shape of every layer, once built.
    shapes: Option<(Vec<usize>, Vec<Vec<usize>>)>,
    /// Memory the model may hold: parameters with gradients plus one batch's buffers.
    max_bytes: u64,
    /// What the built model holds, for checking each batch against `max_bytes`.
    bytes: ModelBytes,
    /// `fused[i]`: layers `i` and `i + 1` ran as one pass in the last forward (`crate::fusion`).
    fused: Vec<bool>,
}

impl<F: Float> Default for Sequential<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> Sequential<F> {
    /// An empty model with seed 0.
    pub fn new() -> Self {
        Self::with_seed(0)
    }

    /// An empty model whose initial weights and dropout masks derive from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Sequential {
            layers: Vec::new(),
            seed,
            declared_input: None,
            shapes: None,
            max_bytes: DEFAULT_MAX_BYTES,
            bytes: ModelBytes::default(),
            fused: Vec::new(),
        }
    }

    /// Declares the per-sample input shape (no batch axis; Keras `input_shape=` or
    /// `keras.Input(shape)`), builder style. Compiling a `Model` builds the network for it;
    /// [`Sequential::build_declared`] builds it here.
    ///
    /// ```
    /// use neurite_layers::{Dense, Flatten, Sequential};
    /// let mut model = Sequential::<f32>::new().with_input_shape([1, 28, 28]).add(Flatten::new()).add(Dense::new(10));
    /// assert_eq!(model.declared_input_shape(), Some(&[1, 28, 28][..]));
    /// assert_eq!(model.input_shape(), None); // not built yet
    /// model.build_declared().unwrap();
    /// assert_eq!(model.output_shape(), Some(&[10][..]));
    /// ```
    pub fn with_input_shape(mut self, input_shape: impl AsRef<[usize]>) -> Self {
        self.declared_input = Some(input_shape.as_ref().to_vec());
        self.shapes = None;
        self
    }

    /// The input shape declared with [`Sequential::with_input_shape`] (or last given to
    /// [`Sequential::build`]).
    pub fn declared_input_shape(&self) -> Option<&[usize]> {
        self.declared_input.as_deref()
    }

    /// Builds the model for its declared input shape (see [`Sequential::with_input_shape`]).
    ///
    /// # Errors
    /// [`LayerError::NotBuilt`] when no shape was declared, else as [`Sequential::build`].
    pub fn build_declared(&mut self) -> Result<()> {
        match self.declared_input.clone() {
            Some(shape) => self.build(&shape),
            None => Err(LayerError::NotBuilt {
                layer: String::from("Sequential (no input shape: use with_input_shape)"),
            }),
        }
    }

    /// Sets the memory limit (builder style): [`Sequential::build`] refuses, naming the layer,
    /// a model whose parameters and their gradients plus the buffers of one sample would exceed
    /// `max_bytes`, and [`Sequential::forward`] a batch that would, before allocating anything.
    /// The default is [`DEFAULT_MAX_BYTES`] (4 GiB). Counts are lower bounds of what the layers
    /// allocate (optimizer moments come on top), so the limit is never hit spuriously.
    ///
    /// ```
    /// use neurite_layers::{Dense, LayerError, Sequential};
    /// let mut model = Sequential::<f32>::new().add(Dense::new(1000)).with_max_bytes(1 << 20);
    /// let err = model.build(&[1000]).unwrap_err();
    /// assert!(matches!(err, LayerError::TooLarge { .. }), "{err}");
    /// assert!(err.to_string().starts_with("Dense(1000) 'dense'"), "{err}");
    /// ```
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.set_max_bytes(max_bytes);
        self
    }

    /// Sets the memory limit (see [`Sequential::with_max_bytes`]); the model must be built
    /// again for it to apply to the parameters.
    pub fn set_max_bytes(&mut self, max_bytes: u64) {
        self.max_bytes = max_bytes;
        self.shapes = None;
    }

    /// The memory limit (see [`Sequential::with_max_bytes`]).
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Refuses, naming the layer, a model too large for its memory limit for `input_shape`
    /// (`shapes` from [`Sequential::output_shapes`]), without allocating; returns the totals.
    pub(crate) fn check_footprint(
        &self,
        input_shape: &[usize],
        shapes: &[Vec<usize>],
    ) -> Result<ModelBytes> {
        footprint::check_model(&self.layers, input_shape, shapes, self.max_bytes)
    }

    /// Appends a layer (builder style).
    // Named after Keras' `model.add(layer)`; it is not arithmetic, so `std::ops::Add` would mislead.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Layer<F> + 'static) -> Self {
        self.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer, naming it if it has no name. The model must be built again.
    pub fn push(&mut self, mut layer: Box<dyn Layer<F>>) {
        if layer.name().is_empty() {
            let stem = layer.default_name();
            let taken = |name: &str| self.layers.iter().any(|l| l.name() == name);
            let name = std::iter::once(stem.to_string())
                .chain((1..).map(|k| format!("{stem}_{k}")))
                .find(|name| !taken(name))
                .expect("an unbounded sequence has a free name");
            layer.set_name(&name);
        }
        self.layers.push(layer);
        self.shapes = None;
    }

    /// The seed of the initializers and dropout masks.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Layer<F>>] {
        &self.layers
    }

    /// The layers, mutably (changing a layer's hyper-parameters needs a new `build`).
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer<F>>] {
        &mut self.layers
    }

    /// The per-sample output shape of every layer for `input_shape`, without building anything.
    ///
    /// # Errors
    /// The first layer that rejects its input, with the shape it got and a hint.
    pub fn output_shapes(&self, input_shape: &[usize]) -> Result<Vec<Vec<usize>>> {
        self.check_names()?;
        let mut shape = input_shape.to_vec();
        let mut shapes = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            shape = layer.output_shape(&shape)?;
            shapes.push(shape.clone());
        }
        Ok(shapes)
    }

    /// Fixes the per-sample input shape (`[1, 28, 28]` for MNIST, no batch axis), checks every
    /// layer and creates the parameters. Building again with the same shape keeps the weights.
    ///
    /// # Errors
    /// [`LayerError::Shape`] naming the first layer that cannot take its input (e.g. "Dense(128)
    /// 'dense' expects [batch, features]; got [batch, 32, 26, 26]: add Flatten before it"),
    /// [`LayerError::Config`] for a bad hyper-parameter, [`LayerError::DuplicateName`],
    /// [`LayerError::TooLarge`] naming the layer that takes the model over its memory limit
    /// ([`Sequential::with_max_bytes`]).
    pub fn build(&mut self, input_shape: &[usize]) -> Result<()> {
        if self.layers.is_empty() {
            return Err(LayerError::Config {
                layer: String::from("Sequential"),
                name: "layers",
                value: String::from("[]"),
                reason: String::from("a model needs at least one layer"),
            });
        }
        // Check the whole chain first, so a failure leaves every layer as it was.
        let shapes = self.output_shapes(input_shape)?;
        self.bytes = self.check_footprint(input_shape, &shapes)?;
        let mut shape = input_shape.to_vec();
        for (index, layer) in self.layers.iter_mut().enumerate() {
            let mut rng = Rng::with_stream(self.seed, index as u64);
            shape = layer.build(&shape, &mut rng)?;
            // Inside a model a parameter carries its full name (`dense_1.weight`): optimizers key
            // their state by it, so it must be unique across layers.
            let layer_name = layer.name().to_string();
            for p in layer.params_mut() {
                let full = full_param_name(&layer_name, p.name());
                p.set_name(full);
            }
        }
        self.shapes = Some((input_shape.to_vec(), shapes));
        self.declared_input = Some(input_shape.to_vec());
        Ok(())
    }

    /// The per-sample input shape given to `build`, if built.
    pub fn input_shape(&self) -> Option<&[usize]> {
        self.shapes.as_ref().map(|(input, _)| input.as_slice())
    }

    /// The per-sample output shape, if built.
    pub fn output_shape(&self) -> Option<&[usize]> {
        self.shapes
            .as_ref()
            .and_then(|(_, shapes)| shapes.last().map(Vec::as_slice))
    }

    fn check_names(&self) -> Result<()> {
        for (i, layer) in self.layers.iter().enumerate() {
            if self.layers[..i].iter().any(|l| l.name() == layer.name()) {
                return Err(LayerError::DuplicateName {
                    name: layer.name().to_string(),
                });
            }
        }
        Ok(())
    }

    fn check_built(&self) -> Result<()> {
        if self.shapes.is_none() {
            return Err(LayerError::NotBuilt {
                layer: String::from("Sequential"),
            });
        }
        Ok(())
    }

    /// Runs the model on a batch `[N, ..input_shape]` and returns the output (a view of the last
    /// layer's buffer: probabilities when the last activation is softmax).
    ///
    /// # Errors
    /// [`LayerError::NotBuilt`], a shape error naming the layer, or [`LayerError::TooLarge`]
    /// for a batch whose buffers would exceed the memory limit.
    pub fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.forward_observed(input, mode, &mut |_| {})
    }

    /// [`Sequential::forward`], calling `done` with the layers of each step as it finishes: one
    /// layer, or two that ran as one pass (a Conv2D with ReLU and the 2x2 max pool after it,
    /// in f32). For profiling: `cargo xtask bench train --profile` times the steps.
    ///
    /// # Errors
    /// As [`Sequential::forward`].
    pub fn forward_observed(
        &mut self,
        input: ArrayViewD<'_, F>,
        mode: Mode,
        done: &mut dyn FnMut(std::ops::Range<usize>),
    ) -> Result<ArrayViewD<'_, F>> {
        self.check_built()?;
        if let Some((sample, _)) = &self.shapes
            && (input.ndim() != sample.len() + 1 || &input.shape()[1..] != sample.as_slice())
        {
            return Err(LayerError::Shape {
                layer: String::from("Sequential"),
                expected: fmt_batch_shape(sample),
                got: crate::error::fmt_shape(input.shape()),
                hint: String::from("the model was built for another input shape"),
            });
        }
        footprint::check_batch(&self.layers, &self.bytes, input.shape()[0], self.max_bytes)?;
        self.fused.clear();
        self.fused.resize(self.layers.len(), false);
        let Sequential {
            layers,
            shapes,
            fused,
            ..
        } = self;
        let out_shapes = shapes.as_ref().map_or(&[][..], |(_, s)| s.as_slice());
        let count = layers.len();
        // The layer whose output the next layer reads (None: the model's input). In inference,
        // a layer that only reshapes its input lends it on instead of copying it; the last
        // layer always runs, so the model's output is a buffer of its own.
        let mut source: Option<usize> = None;
        let mut i = 0;
        while i < count {
            let (below, rest) = layers.split_at_mut(i);
            let x = match source {
                Some(s) => below[s].output(),
                None => input.view(),
            };
            let x = match i.checked_sub(1) {
                Some(previous) if source != Some(previous) => {
                    let shape = batch_shape(x.shape()[0], &out_shapes[previous]);
                    x.into_shape_with_order(shape)
                        .expect("only standard-layout inputs are lent on")
                }
                _ => x,
            };
            if mode == Mode::Infer
                && i + 1 < count
                && rest[0].infers_as_reshape()
                && x.is_standard_layout()
            {
                done(i..i + 1);
                i += 1;
                continue;
            }
            if let [first, second, ..] = rest
                && fusion::forward_pair(&mut **first, &mut **second, x.view(), mode)?
            {
                fused[i] = true;
                source = Some(i + 1);
                done(i..i + 2);
                i += 2;
                continue;
            }
            rest[0].forward(x, mode)?;
            source = Some(i);
            done(i..i + 1);
            i += 1;
        }
        Ok(self.output())
    }

    /// The output of the last forward pass.
    pub fn output(&self) -> ArrayViewD<'_, F> {
        match self.layers.last() {
            Some(layer) => layer.output(),
            None => ndarray::ArrayViewD::from_shape(vec![0], &[]).expect("empty view"),
        }
    }

    /// Back-propagates `d_output`, the gradient of the loss w.r.t. the model's output, adding
    /// into every parameter's gradient. Input gradients are computed only where a layer below
    /// has trainable parameters: not for the first trainable layer, and layers below it
    /// (a leading Flatten) are not visited at all.
    ///
    /// # Errors
    /// [`LayerError::NoForwardCache`] without a `Mode::Train` forward, or a shape error.
    pub fn backward(&mut self, d_output: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_observed(d_output, false, &mut |_| {})
    }

    /// Back-propagates `d_logits`, the gradient w.r.t. the *pre-activation* of the last layer,
    /// skipping its output activation: the fused softmax/sigmoid + cross-entropy path, where the
    /// loss supplies `(p - y) / N` directly (see the crate docs).
    ///
    /// # Errors
    /// As [`Sequential::backward`].
    pub fn backward_from_logits(&mut self, d_logits: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_observed(d_logits, true, &mut |_| {})
    }

    /// [`Sequential::backward`] (or, with `from_logits`, [`Sequential::backward_from_logits`]),
    /// calling `done` with the layers of each step as it finishes, as
    /// [`Sequential::forward_observed`] does.
    ///
    /// # Errors
    /// As [`Sequential::backward`].
    pub fn backward_observed(
        &mut self,
        d_output: ArrayViewD<'_, F>,
        from_logits: bool,
        done: &mut dyn FnMut(std::ops::Range<usize>),
    ) -> Result<()> {
        self.check_built()?;
        // Input gradients are needed only above the first layer with trainable parameters: the
        // layers below it (Flatten, say) have nothing to learn, so they are skipped entirely.
        let Some(first) = self
            .layers
            .iter()
            .position(|l| l.params().iter().any(|p| p.is_trainable()))
        else {
            return Ok(());
        };
        let last = self.layers.len() - 1;
        let fused = |i: usize| self.fused.get(i).copied().unwrap_or(false);
        for i in (first..=last).rev() {
            if i > 0 && fused(i - 1) {
                // The second layer of a pair run as one pass: the first goes back through both.
                continue;
            }
            // The layer whose output gradient this step starts from: the pair's second layer.
            let out = if fused(i) { i + 1 } else { i };
            let (left, right) = self.layers.split_at_mut(i + 1);
            let d_out = match out == last {
                true => d_output.view(),
                false => right[out - i].input_grad(),
            };
            let opts = Backward {
                need_input_grad: i > first,
                from_logits: from_logits && i == last,
            };
            match fused(i) {
                true => fusion::backward_pair(&mut *left[i], d_out, opts)?,
                false => left[i].backward(d_out, opts)?,
            }
            done(i..out + 1);
        }
        Ok(())
    }

    /// The activation applied last (Softmax for the reference classifiers). A loss that fuses
    /// with it computes the gradient w.r.t. the logits; pass that to
    /// [`Sequential::backward_from_logits`].
    pub fn output_activation(&self) -> Activation {
        self.layers
            .last()
            .map_or(Activation::Linear, |l| l.output_activation())
    }

    /// A Keras-style table of layers, output shapes and parameter counts (print it with `{}`).
    ///
    /// # Errors
    /// [`LayerError::NotBuilt`] before `build`.
    pub fn summary(&self) -> Result<Summary> {
        self.check_built()?;
        let shapes = self
            .shapes
            .as_ref()
            .map(|(_, s)| s.as_slice())
            .unwrap_or(&[]);
        Ok(Summary::new(&self.layers, shapes))
    }

    /// The architecture, to store in a model file.
    ///
    /// # Errors
    /// [`LayerError::NotBuilt`] before `build` (the input shape is part of the architecture).
    pub fn config(&self) -> Result<SequentialConfig> {
        self.check_built()?;
        Ok(SequentialConfig {
            input_shape: self.input_shape().unwrap_or(&[]).to_vec(),
            seed: self.seed,
            layers: self.layers.iter().map(|l| l.config()).collect(),
        })
    }

    /// Rebuilds a model from its architecture (fresh weights from the seed; load values with
    /// [`Sequential::set_param`]).
    ///
    /// # Errors
    /// As [`Sequential::build`].
    pub fn from_config(config: &SequentialConfig) -> Result<Self> {
        let mut model = Self::with_seed(config.seed);
        for layer in &config.layers {
            model.push(layer.build()?);
        }
        model.build(&config.input_shape)?;
        Ok(model)
    }
}

/// `[batch, ..sample]`.
fn batch_shape(batch: usize, sample: &[usize]) -> Vec<usize> {
    std::iter::once(batch)
        .chain(sample.iter().copied())
        .collect()
}
