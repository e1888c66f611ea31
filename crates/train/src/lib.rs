//! neurite-train: Keras-style training: `compile`, `fit`, `evaluate`, `predict`, callbacks.
//!
//! ```no_run
//! use neurite_layers::models;
//! use neurite_losses::SparseCategoricalCrossentropy;
//! use neurite_metrics::streaming::Accuracy;
//! use neurite_optim::Adam;
//! use neurite_train::{EarlyStopping, FitConfig, Model};
//! # fn data() -> (neurite_tensor::Tensor<f32>, neurite_tensor::Tensor<f32>) { unimplemented!() }
//! let (x, y) = data(); // [N, 1, 28, 28] images in [0, 1], [N] labels
//! let network = models::mlp::<f32>(0);
//! let mut model = Model::compile(network, SparseCategoricalCrossentropy::default(), Box::new(Adam::default()), vec![Box::new(Accuracy::new())])?;
//! let history = model.fit(&x, &y, FitConfig::new(5, 32).validation_split(0.1).callback(EarlyStopping::new("val_loss").patience(2)))?;
//! println!("{}", history.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod callbacks;
mod config;
mod error;
mod history;
mod model;
pub mod model_file;
mod parallel_predict;
mod persist;
mod progress;

pub use callbacks::{
    Callback, Context, EarlyStopping, LearningRateScheduler, Mode, ModelCheckpoint,
    ReduceLROnPlateau,
};
pub use config::{FitConfig, Validation};
pub use error::{Result, TrainError};
pub use history::{EpochLogs, History};
pub use model::{Evaluation, Model, inference_chunk, predict};
pub use progress::Verbosity;
