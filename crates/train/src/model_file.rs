//! Model files: a [`Sequential`] network, and optionally the state of its training, in one
//! `.safetensors` file that any safetensors reader can open. [`crate::Model::save`] and
//! [`crate::Model::load`] are built on this module; [`NetworkFile`] saves and loads a bare
//! network (weights only).
//!
//! # Layout (format version 1)
//! - one tensor per parameter and per non-trainable state, under the model's own names
//!   (`dense.weight`, `batch_normalization.moving_mean`), in the model's float type (`F32` or
//!   `F64`), little-endian, row-major: exactly the bytes of the values, so a loaded model
//!   predicts bit for bit what the saved one did;
//! - header metadata (all strings): `format` = `neurite.sequential`, `format_version` = `1`,
//!   `dtype` = `F32`/`F64`, `architecture` = the [`SequentialConfig`](neurite_layers::SequentialConfig)
//!   as JSON (input shape, seed, layer configs), and `rng.<layer>` = the position of a layer's
//!   random stream (Dropout), so resumed training draws the masks it would have drawn;
//! - optionally a [`TrainingState`]: the optimizer's state ([`OptimizerState`]) as tensors
//!   `optimizer/<param>/<slot>` (e.g. `optimizer/dense.weight/momentum`) and metadata
//!   `optimizer`, `optimizer.iterations`, `optimizer.learning_rate` (an f64 printed in its
//!   shortest exact form), `training.epochs_completed` when `fit` recorded how far it got, and
//!   `training.compile` = the [`CompileConfig`] as JSON (loss, optimizer hyper-parameters and
//!   schedule, metrics) when [`crate::Model::save`] wrote the file;
//! - `sha256.<tensor>` = the lowercase hex SHA-256 of every tensor's data bytes. Loading verifies
//!   each one and names the tensor and the file when one differs; a file without them (written
//!   before they existed) still loads, with a [`ModelFileWarning`] on the [`LoadedModel`].
//!
//! The header is written with its keys in sorted order, so equal models give byte-identical
//! files. Writing goes through a temporary file in the same directory and a rename
//! (`neurite_io::write_atomic`). Reading checks everything (format, version, architecture,
//! every tensor's presence, type and shape, and that nothing unexpected is present) *before*
//! building the model, so a bad file yields an error that names the problem and never a partly
//! loaded model; the shapes come from the layers themselves ([`Sequential::param_shapes`]).

mod checksum;
mod compile;
mod error;
mod header;
mod reader;
mod registry;
mod tensors;
mod write;

use std::path::Path;

use neurite_layers::Sequential;
use neurite_optim::OptimizerState;
use neurite_tensor::Float;

pub use checksum::{DIGEST_PREFIX, ModelFileWarning};
pub use compile::CompileConfig;
pub use error::ModelFileError;
pub use reader::{LoadedModel, ModelReader};
pub use registry::Registry;
pub use write::{to_bytes, write};

/// The `format` metadata value of neurite model files.
pub const FORMAT_NAME: &str = "neurite.sequential";

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Prefix of the metadata keys holding a layer's random-stream position (`rng.dropout`).
pub const RNG_PREFIX: &str = "rng.";

/// Prefix of optimizer tensors in a model file.
pub const OPTIMIZER_PREFIX: &str = "optimizer/";

/// Metadata key of the number of epochs completed (see [`TrainingState::epochs_completed`]).
pub const EPOCHS_KEY: &str = "training.epochs_completed";

/// Metadata key of the loss, optimizer and metrics the model was compiled with (see
/// [`TrainingState::compile`]).
pub const COMPILE_KEY: &str = "training.compile";

type Result<T> = std::result::Result<T, ModelFileError>;

/// What a model file holds beside the network when it was saved during training.
#[derive(Clone, Debug)]
pub struct TrainingState<F: Float> {
    /// The optimizer's state: step count, learning rate and slot tensors.
    pub optimizer: OptimizerState<F>,
    /// Epochs of training completed when the state was saved, which a resumed `fit` continues
    /// from (metadata `training.epochs_completed`); `None` when not recorded (files written
    /// before it was, or state saved outside `fit`).
    pub epochs_completed: Option<u64>,
    /// The loss, optimizer and metrics the model was compiled with (metadata
    /// `training.compile`, JSON), which [`crate::Model::load`] compiles it with again; `None`
    /// in files written without them (a `ModelCheckpoint`, a network saved alone, files from
    /// before they were stored).
    pub compile: Option<CompileConfig>,
}

/// Saving and loading a bare network (architecture, weights, BatchNorm statistics, dropout
/// streams) as a model file, without any training state; [`crate::Model::save`] keeps the
/// training state as well.
///
/// ```
/// use neurite_layers::{Mode, Sequential, models};
/// use neurite_train::model_file::NetworkFile;
/// let mut model = models::xor::<f32>(7);
/// let path = std::env::temp_dir().join(format!("xor-doc-{}.safetensors", std::process::id()));
/// model.save(&path).unwrap();
/// let mut loaded = Sequential::<f32>::load(&path).unwrap();
/// let x = ndarray::ArrayD::from_shape_vec(vec![1, 3], vec![1.0, 0.0, 1.0]).unwrap();
/// let a = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
/// assert_eq!(loaded.forward(x.view(), Mode::Infer).unwrap(), a);
/// std::fs::remove_file(&path).unwrap();
/// ```
pub trait NetworkFile: Sized {
    /// Writes the network to `path` as a model file; the write is atomic.
    ///
    /// # Errors
    /// [`ModelFileError::Model`] for an unbuilt network, [`ModelFileError::Io`].
    fn save(&self, path: impl AsRef<Path>) -> Result<()>;

    /// Reads the network of a model file (training state in the file is ignored, and so are
    /// warnings: use [`ModelReader`] to see them).
    ///
    /// # Errors
    /// As [`ModelReader::read`].
    fn load(path: impl AsRef<Path>) -> Result<Self>;
}

impl<F: Float> NetworkFile for Sequential<F> {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write(path, self, None)
    }

    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(ModelReader::new().read(path)?.model)
    }
}
