//! `LayerConfig`: the serializable description of a layer, from which it can be rebuilt.

use neurite_tensor::Float;
use serde::{Deserialize, Serialize};

use crate::{
    ActivationConfig, ActivationLayer, AveragePooling2D, BatchNormConfig, BatchNormalization,
    Conv2D, Conv2DConfig, Dense, DenseConfig, Dropout, DropoutConfig, Flatten,
    GlobalAveragePooling2D, Layer, LayerError, MaxPooling2D, NameConfig, Pool2DConfig, Reshape,
    ReshapeConfig, Result,
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
/// assert_eq!(back.build::<f32>().unwrap().config(), dense.config());
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
    /// A layer defined outside neurite (see [`CustomLayerConfig`]).
    Custom(CustomLayerConfig),
}

/// The saved form of a user-defined layer: its name in the model, the class name its
/// constructor is registered under, and its settings as JSON. Its [`Layer::config`] provides
/// it; loading a model file rebuilds the layer through the constructor registered for
/// `class` (neurite-train's `model_file::Registry`).
///
/// ```
/// use neurite_layers::{CustomLayerConfig, LayerConfig};
/// let config = LayerConfig::Custom(CustomLayerConfig {
///     name: String::from("scale"),
///     class: String::from("Scale"),
///     config: serde_json::json!({ "factor": 2.0 }),
/// });
/// let json = serde_json::to_string(&config).unwrap();
/// assert_eq!(
///     json,
///     r#"{"class_name":"Custom","name":"scale","class":"Scale","config":{"factor":2.0}}"#
/// );
/// assert!(config.build::<f32>().is_err(), "only its registered constructor can build it");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomLayerConfig {
    /// The layer's name, unique within a model.
    pub name: String,
    /// The class name its constructor is registered under.
    pub class: String,
    /// Its hyper-parameters, in whatever form it chooses.
    pub config: serde_json::Value,
}

impl LayerConfig {
    /// A new, unbuilt layer with this configuration (parameters are created by `build`, or
    /// loaded by name afterwards).
    ///
    /// # Errors
    /// [`LayerError::Config`] for a [`LayerConfig::Custom`] layer, which only the constructor
    /// registered for its class can build.
    pub fn build<F: Float>(&self) -> Result<Box<dyn Layer<F>>> {
        Ok(match self.clone() {
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
            LayerConfig::Custom(c) => {
                return Err(LayerError::Config {
                    layer: format!("{} '{}'", c.class, c.name),
                    name: "class",
                    value: c.class,
                    reason: String::from(
                        "a user-defined layer: register a constructor for its class to load it \
                         (neurite_train::model_file::Registry::layer)",
                    ),
                });
            }
        })
    }

    /// The parameters (and state tensors) a layer of this configuration creates for a
    /// per-sample `input_shape`: local names (`weight`, `bias`, ...) in [`Layer::params`] order,
    /// with their shapes. Worked out without building anything, so that a model file can be
    /// checked against its architecture before any weight is allocated. Each layer kind states
    /// its own shapes (`DenseConfig::param_shapes`, ...); kinds without parameters have none.
    pub fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        match self {
            LayerConfig::Dense(c) => c.param_shapes(input_shape),
            LayerConfig::Conv2D(c) => c.param_shapes(input_shape),
            LayerConfig::BatchNormalization(c) => c.param_shapes(input_shape),
            LayerConfig::MaxPooling2D(_)
            | LayerConfig::AveragePooling2D(_)
            | LayerConfig::GlobalAveragePooling2D(_)
            | LayerConfig::Flatten(_)
            | LayerConfig::Reshape(_)
            | LayerConfig::Dropout(_)
            | LayerConfig::Activation(_)
            | LayerConfig::Custom(_) => Vec::new(),
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
            LayerConfig::Custom(c) => &c.name,
        }
    }
}
