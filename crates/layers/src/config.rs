//! `LayerConfig`: the serializable description of a layer, from which it can be rebuilt.

use neurite_tensor::Float;
use serde::{Deserialize, Serialize};

use crate::{
    ActivationConfig, ActivationLayer, AveragePooling2D, BatchNormConfig, BatchNormalization,
    Conv2D, Conv2DConfig, Dense, DenseConfig, Dropout, DropoutConfig, Flatten,
    GlobalAveragePooling2D, Layer, MaxPooling2D, NameConfig, Pool2DConfig, Reshape, ReshapeConfig,
};

/// A layer's type and hyper-parameters, tagged with the Keras class name.
///
/// This is what model files store as the architecture (as JSON); parameters are stored
/// separately by name (`dense.weight`, ...).
///
/// ```
/// use neurite_layers::{Activation, Dense, Layer, LayerConfig};
/// let dense = Dense::<f32>::new(10).activation(Activation::Softmax).named("out");
/// let json = serde_json::to_string(&dense.config()).unwrap();
/// assert!(json.starts_with(r#"{"class_name":"Dense","name":"out","units":10"#));
/// let back: LayerConfig = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.build::<f32>().config(), dense.config());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name")]
pub enum LayerConfig {
    /// [`Dense`].
    Dense(DenseConfig),
    /// [`Conv2D`].
    Conv2D(Conv2DConfig),
    /// [`MaxPooling2D`].
    MaxPooling2D(Pool2DConfig),
    /// [`AveragePooling2D`].
    AveragePooling2D(Pool2DConfig),
    /// [`GlobalAveragePooling2D`].
    GlobalAveragePooling2D(NameConfig),
    /// [`Flatten`].
    Flatten(NameConfig),
    /// [`Reshape`].
    Reshape(ReshapeConfig),
    /// [`Dropout`].
    Dropout(DropoutConfig),
    /// [`BatchNormalization`].
    BatchNormalization(BatchNormConfig),
    /// [`ActivationLayer`].
    Activation(ActivationConfig),
}

impl LayerConfig {
    /// A new, unbuilt layer with this configuration (parameters are created by `build`, or
    /// loaded by name afterwards).
    pub fn build<F: Float>(&self) -> Box<dyn Layer<F>> {
        match self.clone() {
            LayerConfig::Dense(c) => Box::new(Dense::from_config(c)),
            LayerConfig::Conv2D(c) => Box::new(Conv2D::from_config(c)),
            LayerConfig::MaxPooling2D(c) => Box::new(MaxPooling2D::from_config(c)),
            LayerConfig::AveragePooling2D(c) => Box::new(AveragePooling2D::from_config(c)),
            LayerConfig::GlobalAveragePooling2D(c) => {
                Box::new(GlobalAveragePooling2D::from_config(c))
            }
            LayerConfig::Flatten(c) => Box::new(Flatten::from_config(c)),
            LayerConfig::Reshape(c) => Box::new(Reshape::from_config(c)),
            LayerConfig::Dropout(c) => Box::new(Dropout::from_config(c)),
            LayerConfig::BatchNormalization(c) => Box::new(BatchNormalization::from_config(c)),
            LayerConfig::Activation(c) => Box::new(ActivationLayer::from_config(c)),
        }
    }

    /// The layer's name as configured.
    pub fn name(&self) -> &str {
        match self {
            LayerConfig::Dense(c) => &c.name,
            LayerConfig::Conv2D(c) => &c.name,
            LayerConfig::MaxPooling2D(c) | LayerConfig::AveragePooling2D(c) => &c.name,
            LayerConfig::GlobalAveragePooling2D(c) | LayerConfig::Flatten(c) => &c.name,
            LayerConfig::Reshape(c) => &c.name,
            LayerConfig::Dropout(c) => &c.name,
            LayerConfig::BatchNormalization(c) => &c.name,
            LayerConfig::Activation(c) => &c.name,
        }
    }
}
