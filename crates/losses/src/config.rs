//! `LossConfig`: which loss, with which settings, in a form a model file can record.

use neurite_tensor::Float;
use serde::{Deserialize, Serialize};

use crate::{
    BinaryCrossentropy, CategoricalCrossentropy, Huber, Loss, MeanAbsoluteError, MeanSquaredError,
    SparseCategoricalCrossentropy,
};

/// A loss and its settings, serializable, so a saved model is compiled again with the loss it
/// was trained with ([`Loss::config`] gives it, [`LossConfig::build`] rebuilds the loss).
///
/// ```
/// use neurite_losses::{Huber, Loss, LossConfig};
/// let config = Loss::<f32>::config(&Huber::new(0.5));
/// let json = serde_json::to_string(&config).unwrap();
/// assert_eq!(json, r#"{"class_name":"Huber","config":{"delta":0.5}}"#);
/// let back: LossConfig = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.build::<f32>().unwrap().config(), config);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
pub enum LossConfig {
    /// [`MeanSquaredError`].
    MeanSquaredError,
    /// [`MeanAbsoluteError`].
    MeanAbsoluteError,
    /// [`Huber`].
    Huber(Huber),
    /// [`BinaryCrossentropy`].
    BinaryCrossentropy(BinaryCrossentropy),
    /// [`CategoricalCrossentropy`].
    CategoricalCrossentropy(CategoricalCrossentropy),
    /// [`SparseCategoricalCrossentropy`].
    SparseCategoricalCrossentropy(SparseCategoricalCrossentropy),
    /// A loss defined outside neurite, known by its [`Loss::name`]; rebuilding it takes a
    /// constructor the caller registers under that name.
    Custom {
        /// The loss's name.
        name: String,
    },
}

impl LossConfig {
    /// The loss this config describes; `None` for [`LossConfig::Custom`], which only its
    /// owner can build.
    pub fn build<F: Float>(&self) -> Option<Box<dyn Loss<F>>> {
        Some(match self {
            LossConfig::MeanSquaredError => Box::new(MeanSquaredError),
            LossConfig::MeanAbsoluteError => Box::new(MeanAbsoluteError),
            LossConfig::Huber(l) => Box::new(*l),
            LossConfig::BinaryCrossentropy(l) => Box::new(*l),
            LossConfig::CategoricalCrossentropy(l) => Box::new(*l),
            LossConfig::SparseCategoricalCrossentropy(l) => Box::new(*l),
            LossConfig::Custom { .. } => return None,
        })
    }
}
