//! The `Layer` trait every layer implements, and the small types its methods take.

use ndarray::{ArrayViewD, IxDyn};
use neurite_tensor::{Float, Param, Rng, Tensor};

use crate::{Activation, Footprint, LayerConfig, Result};

/// Whether a forward pass is part of training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: dropout is active, BatchNorm uses and updates batch statistics, and the layer
    /// caches what its backward pass needs.
    Train,
    /// Inference: deterministic, nothing is cached (backward after it is an error).
    Infer,
}

/// What a backward pass must produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backward {
    /// Compute the gradient w.r.t. the layer's input. The first layer of a model skips it (no one
    /// needs it, and for a convolution it costs as much as the weight gradient).
    pub need_input_grad: bool,
    /// The incoming gradient is w.r.t. the layer's pre-activation (its *logits*), not its output:
    /// the layer skips its own output activation. Used for the fused softmax / sigmoid +
    /// cross-entropy gradient `(p - y) / N`. Layers without an output activation ignore it.
    pub from_logits: bool,
}

impl Backward {
    /// Input gradient wanted, gradient w.r.t. the output: the usual case.
    pub const FULL: Backward = Backward {
        need_input_grad: true,
        from_logits: false,
    };
}

/// One layer of a model: explicit forward and backward passes over owned buffers.
///
/// Shapes given to [`Layer::build`] and [`Layer::output_shape`] are *per sample* (no batch axis,
/// as in Keras: `[1, 28, 28]` for an MNIST image); tensors given to `forward`/`backward` carry the
/// batch axis in front (`[N, 1, 28, 28]`). Layout is NCHW.
///
/// Buffers: every layer owns its output, its cache and its input-gradient tensors, and reuses
/// them for as long as the batch size stays the same, so the layers' forward and backward passes
/// allocate no tensors after the first batch (a training step as a whole still allocates a
/// little: the batcher's batch copies and the `Vec`s that [`Layer::params`] returns). `forward`
/// returns a view of the output buffer; `backward` fills the input gradient, read with
/// [`Layer::input_grad`].
///
/// Gradients accumulate: `backward` *adds* into each parameter's gradient; zeroing is the caller's
/// explicit step ([`Param::zero_grad`], or `Sequential::zero_grad`).
///
/// `Any` lets a `Sequential` recognise the pairs of built-in layers it runs as one pass (a
/// Conv2D with ReLU and the max pool after it); a layer type only has to own its data.
pub trait Layer<F: Float>: Send + std::any::Any {
    /// The layer's name, unique within a model (`dense`, `conv2d_1`, ...).
    fn name(&self) -> &str;

    /// Renames the layer (a `Sequential` names unnamed layers when they are added).
    fn set_name(&mut self, name: &str);

    /// The Keras class name: `Dense`, `Conv2D`, `MaxPooling2D`, ...
    fn class_name(&self) -> &'static str;

    /// The stem of default names: `dense`, `conv2d`, `max_pooling2d`, ...
    fn default_name(&self) -> &'static str;

    /// A short description for messages: `Dense(128) 'dense'`.
    fn describe(&self) -> String {
        format!("{} '{}'", self.class_name(), self.name())
    }

    /// The serializable configuration from which [`LayerConfig::build`] recreates this layer.
    fn config(&self) -> LayerConfig;

    /// The per-sample output shape for a per-sample input shape, checking that the layer accepts
    /// it and that its hyper-parameters are valid.
    ///
    /// # Errors
    /// [`crate::LayerError::Shape`] naming the layer, the shape and what it expects, or
    /// [`crate::LayerError::Config`] for an invalid hyper-parameter.
    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>>;

    /// The parameters and state tensors the layer creates for a per-sample `input_shape`
    /// (already accepted by [`Layer::output_shape`]): local names in [`Layer::params`] order,
    /// with their shapes, worked out without allocating. A model file is checked against them
    /// before anything is built, and the ONNX exporter checks the weights it copies. The
    /// default asks the configuration ([`LayerConfig::param_shapes`]); a user-defined layer
    /// with parameters overrides it.
    fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        self.config().param_shapes(input_shape)
    }

    /// What the layer will hold for a per-sample `input_shape` (already accepted by
    /// [`Layer::output_shape`], which gave `output_shape`), worked out without allocating, so
    /// that a model too large for memory is refused by name before it is built. Counts must be
    /// lower bounds of what the layer allocates. The default, for layers without parameters,
    /// counts the output buffer.
    fn footprint(&self, input_shape: &[usize], output_shape: &[usize]) -> Footprint {
        let _ = input_shape;
        Footprint {
            params: 0,
            per_sample: crate::footprint::product(output_shape),
        }
    }

    /// Fixes the input shape and creates the parameters (drawing initial values from `rng`, the
    /// layer's own stream). Building again for the same input shape keeps the parameters.
    /// Returns the per-sample output shape.
    ///
    /// # Errors
    /// As [`Layer::output_shape`].
    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>>;

    /// Runs the layer on a batch and returns its output (a view of the layer's own buffer).
    ///
    /// # Errors
    /// [`crate::LayerError::NotBuilt`], or [`crate::LayerError::Shape`] when the input does not
    /// match the built shape.
    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>>;

    /// The output of the last forward pass.
    ///
    /// Inside a `Sequential` running f32, a Conv2D with ReLU that feeds a 2x2 max pool runs
    /// with it as one pass and keeps no output of its own (this is then empty); to look at
    /// such a layer's feature maps, call its `forward` directly.
    fn output(&self) -> ArrayViewD<'_, F>;

    /// Back-propagates `d_output` (the gradient w.r.t. the last output, or w.r.t. the logits
    /// when `opts.from_logits`): adds into the parameter gradients and, when
    /// `opts.need_input_grad`, fills the input gradient.
    ///
    /// # Errors
    /// [`crate::LayerError::NoForwardCache`] without a preceding `Mode::Train` forward, or a
    /// shape error when `d_output` does not match the output.
    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()>;

    /// The gradient w.r.t. the input computed by the last backward pass (empty if it was not
    /// requested).
    fn input_grad(&self) -> ArrayViewD<'_, F>;

    /// The parameters and the non-trainable state, in a fixed order (`weight`, `bias`, ...).
    fn params(&self) -> Vec<&Param<F>> {
        Vec::new()
    }

    /// The parameters and state, mutably, in the same order as [`Layer::params`].
    fn params_mut(&mut self) -> Vec<&mut Param<F>> {
        Vec::new()
    }

    /// The activation applied last by this layer (`Linear` for layers that apply none). A loss
    /// that can fuse with it (softmax + cross-entropy) back-propagates from the logits instead.
    fn output_activation(&self) -> Activation {
        Activation::Linear
    }

    /// The position of the layer's random stream (dropout masks), so a model file can store it
    /// and resumed training draws the masks uninterrupted training would have drawn (and a
    /// gradient check can evaluate one fixed function many times). None for layers without
    /// randomness.
    fn rng_state(&self) -> Option<[u64; 6]> {
        None
    }

    /// Restores a position saved by [`Layer::rng_state`]; returns false (changing nothing) for
    /// layers without randomness or words no generator can have.
    fn set_rng_state(&mut self, _words: [u64; 6]) -> bool {
        false
    }

    /// Whether this layer's `Mode::Infer` output is its input unchanged, only reshaped to
    /// [`Layer::output_shape`] (row-major): Dropout, Flatten, Reshape. A `Sequential` running
    /// inference then hands the input on as a view instead of calling `forward`, which would
    /// copy it; the layer's own output is left as it was.
    fn infers_as_reshape(&self) -> bool {
        false
    }

    /// A hash of the discrete choices made by the last `Mode::Train` forward (ReLU signs, pooling
    /// winners); 0 for smooth layers. A gradient check that sees it change between two nearby
    /// evaluations knows the finite difference crossed a kink and skips that entry.
    fn kink_fingerprint(&self) -> u64 {
        0
    }
}

/// Makes `buf` a tensor of `shape`, allocating only when the shape changed. The contents are
/// unspecified afterwards: callers overwrite every element (or fill before accumulating).
pub(crate) fn ensure_shape<F: Float>(buf: &mut Tensor<F>, shape: &[usize]) {
    if buf.shape() != shape {
        *buf = Tensor::zeros(IxDyn(shape));
    }
}

/// An empty tensor, the initial state of every buffer.
pub(crate) fn empty<F: Float>() -> Tensor<F> {
    Tensor::zeros(IxDyn(&[0]))
}

/// FNV-1a over a stream of words: cheap, deterministic, good enough to notice a changed pattern.
pub(crate) fn fingerprint(words: impl Iterator<Item = u64>) -> u64 {
    words.fold(0xcbf2_9ce4_8422_2325, |h, w| {
        (h ^ w).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The fingerprint of an activation's kinks over its pre-activations `z` (0 for smooth ones).
pub(crate) fn activation_fingerprint<'a, F: Float>(
    act: Activation,
    z: impl IntoIterator<Item = &'a F>,
) -> u64 {
    if !act.has_kink() {
        return 0;
    }
    fingerprint(z.into_iter().map(|&v| u64::from(v > F::zero())))
}

/// Checks that a batch `got` = `[N, ..sample]` matches the per-sample shape the layer was built
/// for.
pub(crate) fn check_batch(
    layer: &dyn Fn() -> String,
    got: &[usize],
    sample: &[usize],
) -> Result<()> {
    if got.len() != sample.len() + 1 || &got[1..] != sample {
        return Err(crate::LayerError::Shape {
            layer: layer(),
            expected: crate::error::fmt_batch_shape(sample),
            got: crate::error::fmt_shape(got),
            hint: String::from("the layer was built for another input shape"),
        });
    }
    Ok(())
}

/// Checks that the incoming gradient has the shape of the output it belongs to.
pub(crate) fn check_grad(
    layer: &dyn Fn() -> String,
    got: &[usize],
    output: &[usize],
) -> Result<()> {
    if got != output {
        return Err(crate::LayerError::Shape {
            layer: layer(),
            expected: format!(
                "an output gradient of shape {}",
                crate::error::fmt_shape(output)
            ),
            got: crate::error::fmt_shape(got),
            hint: String::from("pass the gradient of the last forward pass's output"),
        });
    }
    Ok(())
}

/// The [`Layer`] methods that say what a built-in layer is, the same in every one: `name` and
/// `set_name` read and write the name in its configuration `self.cfg`, `class_name` and
/// `default_name` are its Keras class and name stem, and `config` wraps a copy of `self.cfg` in
/// its [`LayerConfig`] variant. Without a stem, the layer writes `default_name` itself.
macro_rules! layer_identity {
    ($class:literal, $stem:literal, $variant:ident) => {
        layer_identity!($class, $variant);

        fn default_name(&self) -> &'static str {
            $stem
        }
    };
    ($class:literal, $variant:ident) => {
        fn name(&self) -> &str {
            &self.cfg.name
        }

        fn set_name(&mut self, name: &str) {
            self.cfg.name = name.to_string();
        }

        fn class_name(&self) -> &'static str {
            $class
        }

        fn config(&self) -> $crate::LayerConfig {
            $crate::LayerConfig::$variant(self.cfg.clone())
        }
    };
}
pub(crate) use layer_identity;

/// Checks that a backward pass may run: the last forward was in `Mode::Train` (`cached`), and
/// the incoming gradient has the shape of that forward's output.
pub(crate) fn check_backward(
    layer: &dyn Fn() -> String,
    cached: bool,
    got: &[usize],
    output: &[usize],
) -> Result<()> {
    if !cached {
        return Err(crate::LayerError::NoForwardCache { layer: layer() });
    }
    check_grad(layer, got, output)
}
