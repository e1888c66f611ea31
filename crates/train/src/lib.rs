//! neurite-train: Keras-style training: `compile`, `fit`, `evaluate`, `predict`, callbacks.
//!
//! ```no_run
//! use neurite_layers::models;
//! use neurite_losses::SparseCategoricalCrossentropy;
//! use neurite_metrics::streaming::Accuracy;
//! use neurite_optim::Adam;
//! use neurite_train::{EarlyStopping, FitConfig, Model};
//! # fn data() -> (ndarray::Array4<f32>, ndarray::Array1<u8>) { unimplemented!() }
//! let (x, y) = data(); // [N, 1, 28, 28] images in [0, 1], [N] labels
//! let mut model = Model::new(models::mlp::<f32>(0))
//!     .loss(SparseCategoricalCrossentropy::default())
//!     .optimizer(Adam::default())
//!     .metric(Accuracy::new())
//!     .compile()?;
//! let stop = EarlyStopping::new("val_loss").patience(2);
//! let history = model.fit(&x, &y, FitConfig::default().epochs(5).validation_split(0.1).callback(stop))?;
//! println!("{}", history.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod callbacks;
mod config;
mod error;
mod history;
mod input;
mod model;
pub mod model_file;
mod parallel_predict;
mod persist;
mod progress;

pub use builder::ModelBuilder;
pub use callbacks::{
    CSVLogger, Callback, Context, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
    MonitorMode, ReduceLROnPlateau,
};
pub use config::{DEFAULT_BATCH_SIZE, FitConfig, Validation};
pub use error::{Result, TrainError};
pub use history::{EpochLogs, History};
pub use input::{AsSamples, AsTargets, TargetElement};
pub use model::{Evaluation, Model, inference_chunk, predict};
pub use progress::Verbosity;
