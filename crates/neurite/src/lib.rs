//! neurite: train neural networks in Rust the way Keras does.
//!
//! This facade re-exports the neurite crates and holds no logic of its own. Depend on it for the
//! whole library (`use neurite::prelude::*`), or on a single `neurite-*` crate for one piece.
//! [`ndarray`] is re-exported (and in the prelude), so the arrays you pass are of the version
//! neurite uses. `docs/keras.md` in the repository ports the Keras tutorials line by line.
//!
//! ```
//! use neurite::prelude::*;
//!
//! // The classic XOR tutorial: the third input is a constant bias column.
//! let x = array![[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]];
//! let y = array![[0.0], [1.0], [1.0], [0.0]];
//! let network = Sequential::<f64>::with_seed(1)
//!     .with_input_shape([3])
//!     .add(Dense::new(4).activation(Activation::Sigmoid))
//!     .add(Dense::new(1).activation(Activation::Sigmoid));
//! let mut model = Model::new(network).loss(MeanSquaredError).optimizer(Sgd::default().learning_rate(0.1)).compile()?;
//! let history = model.fit(&x, &y, FitConfig::default().epochs(10).batch_size(4).silent())?;
//! assert_eq!(history.epochs.len(), 10);
//! assert_eq!(model.predict(&x, None)?.dim(), (4, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `examples/` for every tutorial of the guide: xor, a neuron trained by hand, regression
//! saved and loaded, the MNIST mlp and cnn, a cnn with dropout and a decaying rate, and a
//! confusion matrix with ROC and PR curves.

pub use ndarray;
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
    pub use ndarray::{self, Array1, Array2, ArrayD, Axis, array, s};
    pub use neurite_data::{
        BatchConfig, Batcher, Dataset, FASHION_MNIST, MNIST, Resolver, Split, mnist_sample,
    };
    pub use neurite_layers::{
        Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout,
        Flatten, GlobalAveragePooling2D, Layer, MaxPooling2D, Mode, Reshape, Sequential, models,
    };
    pub use neurite_losses::{
        BinaryCrossentropy, CategoricalCrossentropy, Huber, Loss, MeanAbsoluteError,
        MeanSquaredError, SparseCategoricalCrossentropy,
    };
    pub use neurite_metrics::streaming::{Accuracy, BinaryAccuracy, SparseCategoricalAccuracy};
    pub use neurite_metrics::{
        ConfusionMatrix, accuracy, precision_recall_curve, predicted_classes, roc_auc_score,
        roc_curve,
    };
    pub use neurite_optim::{
        Adagrad, Adam, CosineDecay, ExponentialDecay, LearningRate, LearningRateSchedule,
        MonitorMode, Optimizer, PiecewiseConstant, RmsProp, Sgd,
    };
    pub use neurite_tensor::{Float, Padding, Rng, Tensor};
    pub use neurite_train::model_file::NetworkFile;
    pub use neurite_train::{
        AsSamples, AsTargets, CSVLogger, Callback, EarlyStopping, FitConfig, History,
        LearningRateScheduler, Model, ModelCheckpoint, ReduceLROnPlateau, Verbosity,
    };
}
