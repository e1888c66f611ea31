//! `Debug` for the layers and `Sequential`: the name and the configuration (what a model file
//! stores), plus whether weights exist, rather than the raw buffers.

use std::fmt;

use neurite_tensor::Float;

use crate::{
    ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
    GlobalAveragePooling2D, Layer, MaxPooling2D, Reshape, Sequential,
};

/// The shared form: `Dense { name: "dense", config: Dense(DenseConfig { .. }), params: 2 }`.
fn layer_debug<F: Float>(layer: &dyn Layer<F>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct(layer.class_name())
        .field("name", &layer.name())
        .field("config", &layer.config())
        .field("params", &layer.params().len())
        .finish()
}

impl<F: Float> fmt::Debug for dyn Layer<F> + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        layer_debug(self, f)
    }
}

macro_rules! debug_via_config {
    ($($layer:ident),*) => {$(
        impl<F: Float> fmt::Debug for $layer<F> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                layer_debug(self, f)
            }
        }
    )*};
}

debug_via_config!(
    ActivationLayer,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
    Reshape
);

/// ```
/// use neurite_layers::{Dense, Sequential};
/// let model = Sequential::<f32>::new().with_input_shape([4]).add(Dense::new(2));
/// let text = format!("{model:?}");
/// assert!(text.starts_with("Sequential { seed: 0, input_shape: Some([4]), built: false"), "{text}");
/// assert!(text.contains("name: \"dense\""), "{text}");
/// ```
impl<F: Float> fmt::Debug for Sequential<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.input_shape().or(self.declared_input_shape());
        f.debug_struct("Sequential")
            .field("seed", &self.seed())
            .field("input_shape", &input)
            .field("built", &self.input_shape().is_some())
            .field("layers", &self.layers())
            .finish()
    }
}
