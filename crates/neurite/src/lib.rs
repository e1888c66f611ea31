//! neurite: train neural networks in Rust the way Keras does.
//!
//! This facade re-exports the neurite crates and holds no logic of its own. Depend on it for the
//! whole library (`use neurite::prelude::*`), or on a single `neurite-*` crate for one piece.
//!
//! ```
//! use neurite::prelude::*;
//!
//! // The classic XOR tutorial: the third input is a constant bias column.
//! let x = ndarray::arr2(&[[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]).into_dyn();
//! let y = ndarray::arr2(&[[0.0], [1.0], [1.0], [0.0]]).into_dyn();
//! let network = models::xor::<f64>(1);
//! let mut model = Model::compile(network, MeanSquaredError, Box::new(Sgd::with_learning_rate(0.1)?), vec![])?;
//! let history = model.fit(&x, &y, FitConfig::new(10, 4).silent())?;
//! assert_eq!(history.epochs.len(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `examples/` for xor, regression, and the reference mlp and cnn on MNIST.

pub use neurite_data as data;
pub use neurite_io as io;
pub use neurite_layers as layers;
pub use neurite_losses as losses;
pub use neurite_metrics as metrics;
pub use neurite_onnx as onnx;
pub use neurite_optim as optim;
pub use neurite_tensor as tensor;
pub use neurite_train as train;

/// The names a training script needs, in one import.
pub mod prelude {
    pub use neurite_data::{BatchConfig, Batcher, Dataset, FASHION_MNIST, MNIST, Resolver, Split};
    pub use neurite_layers::{
        Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout,
        Flatten, GlobalAveragePooling2D, Layer, MaxPooling2D, Mode, Reshape, Sequential, models,
    };
    pub use neurite_losses::{
        BinaryCrossentropy, CategoricalCrossentropy, Huber, Loss, MeanAbsoluteError,
        MeanSquaredError, SparseCategoricalCrossentropy,
    };
    pub use neurite_metrics::streaming::{Accuracy, BinaryAccuracy, SparseCategoricalAccuracy};
    pub use neurite_optim::{Adagrad, Adam, Optimizer, RmsProp, Sgd};
    pub use neurite_tensor::{Float, Padding, Tensor};
    pub use neurite_train::model_file::NetworkFile;
    pub use neurite_train::{
        Callback, EarlyStopping, FitConfig, History, LearningRateScheduler, Model,
        ReduceLROnPlateau, Verbosity,
    };
}
