//! `LayerError`: everything a caller can get wrong when building or running a model.

use neurite_tensor::TensorError;
use thiserror::Error;

/// A layer or model was given something it cannot work with.
///
/// Every variant names the layer (`dense_1`, `conv2d`, ...) so a message read far from the model
/// still says where it came from, and says what would fix it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LayerError {
    /// A layer received a tensor of the wrong shape.
    #[error("{layer} expects {expected}; got {got}{}", fmt_hint(hint))]
    Shape {
        /// The layer's description, e.g. `Dense(128) 'dense'`.
        layer: String,
        /// What the layer accepts, e.g. `[batch, features]`.
        expected: String,
        /// The shape it received, rendered like `[batch, 32, 26, 26]`.
        got: String,
        /// What would fix it (may be empty).
        hint: String,
    },
    /// A hyper-parameter outside its valid range.
    #[error("{layer}: invalid {name} = {value}: {reason}")]
    Config {
        /// The layer's description.
        layer: String,
        /// The hyper-parameter.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// The layer was used before `Sequential::build` (or the layer's own `build`) gave it its
    /// input shape.
    #[error("{layer} is not built yet: call build(input_shape) first")]
    NotBuilt {
        /// The layer's description.
        layer: String,
    },
    /// `backward` was called without a preceding `forward` in `Mode::Train` on this batch.
    #[error("{layer}: backward needs a forward pass in Mode::Train first (Infer caches nothing)")]
    NoForwardCache {
        /// The layer's description.
        layer: String,
    },
    /// Two layers of one model share a name.
    #[error("layer name '{name}' is used twice: names must be unique within a model")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// No parameter or state tensor has this name.
    #[error("no parameter named '{name}'; known: {known}")]
    UnknownParam {
        /// The name asked for.
        name: String,
        /// The names that exist, comma separated.
        known: String,
    },
    /// A parameter value of the wrong shape was offered.
    #[error(
        "parameter '{name}' has shape {}, got a value of shape {}",
        fmt_shape(expected),
        fmt_shape(got)
    )]
    ParamShape {
        /// The parameter's full name.
        name: String,
        /// Its shape.
        expected: Vec<usize>,
        /// The shape offered.
        got: Vec<usize>,
    },
    /// The model would need more memory than its limit (`Sequential::with_max_bytes`); refused
    /// before anything is allocated.
    #[error("{layer}: {what} would bring the model to {needed}, over its limit of {limit}: {hint}")]
    TooLarge {
        /// The layer's description.
        layer: String,
        /// What the layer asks for (parameters, buffers, a batch).
        what: String,
        /// The model's total with it, rendered like `298.0 GiB`.
        needed: String,
        /// The limit, rendered the same way.
        limit: String,
        /// What would fix it.
        hint: String,
    },
    /// A tensor kernel failed inside a layer.
    #[error("{layer}: {source}")]
    Tensor {
        /// The layer's description.
        layer: String,
        /// The kernel's error.
        source: TensorError,
    },
}

/// Result of a neurite-layers operation.
pub type Result<T> = std::result::Result<T, LayerError>;

/// `[batch, 32, 26, 26]`-style rendering of a shape.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// A per-sample shape with the batch axis in front: `[batch, 32, 26, 26]`.
pub(crate) fn fmt_batch_shape(sample: &[usize]) -> String {
    let mut dims = vec![String::from("batch")];
    dims.extend(sample.iter().map(usize::to_string));
    format!("[{}]", dims.join(", "))
}

fn fmt_hint(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(": {hint}")
    }
}

/// Attaches a layer description to tensor errors.
pub(crate) trait TensorContext<T> {
    fn in_layer(self, layer: impl FnOnce() -> String) -> Result<T>;
}

impl<T> TensorContext<T> for std::result::Result<T, TensorError> {
    fn in_layer(self, layer: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| LayerError::Tensor {
            layer: layer(),
            source,
        })
    }
}
