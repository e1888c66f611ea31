//! Saving and loading a whole `Model` (Keras' `model.save` / `load_model`): the network, the
//! loss, the optimizer with its hyper-parameters and state, the metrics and the epoch count in
//! one model file, so that `Model::load` gives back a compiled model whose `fit` continues
//! exactly where it stopped.

use std::path::Path;

use neurite_layers::Sequential;
use neurite_losses::Loss;
use neurite_metrics::Score;
use neurite_metrics::streaming::StreamingMetric;
use neurite_optim::Optimizer;
use neurite_tensor::Float;

use crate::model_file::{
    self, CompileConfig, ModelFileError, ModelReader, Registry, TrainingState,
};
use crate::{Model, ModelBuilder, Result, TrainError};

/// The optimizer's state and how many epochs are done, as model files store them.
pub(crate) fn training_state<F: Float>(
    optimizer: &dyn Optimizer<F>,
    epochs_completed: usize,
) -> TrainingState<F> {
    TrainingState {
        optimizer: optimizer.state(),
        epochs_completed: Some(epochs_completed as u64),
        compile: None,
    }
}

/// Writes the network, the optimizer's state and the epoch count to `path` (atomically).
pub(crate) fn save_network<F: Float>(
    network: &Sequential<F>,
    optimizer: &dyn Optimizer<F>,
    epochs_completed: usize,
    path: &Path,
) -> Result<()> {
    let training = training_state(optimizer, epochs_completed);
    model_file::write(path, network, Some(&training)).map_err(file_error)
}

fn file_error(e: ModelFileError) -> TrainError {
    TrainError::ModelFile(Box::new(e))
}

impl<F: Float + Score> Model<F> {
    /// Writes everything [`Model::load`] needs to carry on training: the network
    /// (architecture, weights, BatchNorm statistics, dropout streams), the loss with its
    /// settings, the optimizer with its hyper-parameters, schedule and state (step count,
    /// learning rate, moments), the metrics and [`Model::epochs_completed`], to one safetensors
    /// file; the write is atomic. Any safetensors reader can open it. Equal models give
    /// byte-identical files. An optimizer whose schedule cannot be serialized (a custom
    /// closure) is saved without the compile record; load such a file with
    /// [`Model::load_and_compile`].
    ///
    /// # Errors
    /// [`TrainError::ModelFile`] when the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let compile = CompileConfig {
            loss: self.loss().config(),
            optimizer: self.optimizer().config(),
            metrics: self.metrics().iter().map(|m| m.config()).collect(),
        };
        let mut training = training_state(self.optimizer(), self.epochs_completed());
        training.compile = serde_json::to_string(&compile).is_ok().then_some(compile);
        model_file::write(path, self.network(), Some(&training)).map_err(file_error)
    }

    /// Reads a file written by [`Model::save`] and returns the model compiled as it was saved
    /// (Keras' `load_model`): training continues exactly as if it had never stopped (dropout
    /// streams included), from epoch [`Model::epochs_completed`] + 1 when `fit` is given it as
    /// [`crate::FitConfig::initial_epoch()`]. Tensor checksums are verified; a file without
    /// them (written before they existed) loads without a word here: read it with
    /// [`ModelReader`] to get the warning.
    ///
    /// ```
    /// use neurite_layers::models;
    /// use neurite_losses::MeanSquaredError;
    /// use neurite_optim::Sgd;
    /// use neurite_train::Model;
    /// let model = Model::compile(
    ///     models::xor::<f32>(1),
    ///     MeanSquaredError,
    ///     Box::new(Sgd::with_learning_rate(0.1)?),
    ///     Vec::new(),
    /// )?;
    /// let path = std::env::temp_dir().join(format!("model-doc-{}.safetensors", std::process::id()));
    /// model.save(&path)?;
    /// let loaded = Model::<f32>::load(&path)?;
    /// assert_eq!(loaded.loss().name(), "mean_squared_error");
    /// assert_eq!(loaded.optimizer().learning_rate(), 0.1);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TrainError::ModelFile`] for a missing, truncated, corrupt or mismatched file; with
    /// [`ModelFileError::NotCompiled`] for a file that holds no loss, optimizer and metrics (a
    /// network saved alone, a `ModelCheckpoint`, a file from an older neurite), whose message
    /// says to call [`Model::load_and_compile`]; and for a user-defined part whose
    /// constructor is not registered (see [`Model::load_registered`]). Nothing is half loaded.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_registered(path, &Registry::new())
    }

    /// As [`Model::load`], with the constructors of user-defined layers, optimizers, losses
    /// and metrics in `registry`.
    ///
    /// # Errors
    /// As [`Model::load`].
    pub fn load_registered(path: impl AsRef<Path>, registry: &Registry<F>) -> Result<Self> {
        let path = path.as_ref();
        let not_compiled = |reason: String| {
            file_error(ModelFileError::NotCompiled {
                path: path.to_path_buf(),
                reason,
            })
        };
        let loaded = ModelReader::new()
            .read_with(path, registry)
            .map_err(file_error)?;
        let Some(TrainingState {
            optimizer: state,
            epochs_completed,
            compile: Some(compile),
        }) = loaded.training
        else {
            return Err(not_compiled(String::from(
                "the file holds a network without its loss, optimizer and metrics (saved alone, \
                 by a ModelCheckpoint, or by an older neurite); load it with \
                 Model::load_and_compile(path, loss, optimizer, metrics)",
            )));
        };
        let loss = registry.build_loss(&compile.loss).map_err(not_compiled)?;
        let mut optimizer = registry
            .build_optimizer(&compile.optimizer)
            .map_err(not_compiled)?;
        optimizer.load_state(state)?;
        let metrics = compile
            .metrics
            .iter()
            .map(|m| registry.build_metric(m))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(not_compiled)?;
        let mut model = metrics
            .into_iter()
            .fold(
                ModelBuilder::new(loaded.model)
                    .boxed_loss(loss)
                    .boxed_optimizer(optimizer),
                ModelBuilder::boxed_metric,
            )
            .compile()?;
        model.set_epochs_completed(epochs_completed.unwrap_or(0) as usize);
        Ok(model)
    }

    /// Reads a model file and compiles the network with `loss`, `optimizer` and `metrics`
    /// instead of those recorded in it: for files without the record (see
    /// [`ModelFileError::NotCompiled`]), or to train on with other settings. When the file
    /// holds optimizer state, it is loaded into `optimizer`, which must be of the same kind
    /// (Adam for Adam state, ...), and training continues exactly as with [`Model::load`].
    ///
    /// # Errors
    /// [`TrainError::ModelFile`] for a missing, truncated, corrupt or mismatched file, and
    /// [`TrainError::Optim`] when the saved state does not fit `optimizer`.
    pub fn load_and_compile(
        path: impl AsRef<Path>,
        loss: impl Loss<F> + 'static,
        mut optimizer: Box<dyn Optimizer<F>>,
        metrics: Vec<Box<dyn StreamingMetric<F>>>,
    ) -> Result<Self> {
        let loaded = ModelReader::new().read(path).map_err(file_error)?;
        let mut epochs_completed = 0;
        if let Some(saved) = loaded.training {
            epochs_completed = saved.epochs_completed.unwrap_or(0) as usize;
            optimizer.load_state(saved.optimizer)?;
        }
        let mut model = Model::compile(loaded.model, loss, optimizer, metrics)?;
        model.set_epochs_completed(epochs_completed);
        Ok(model)
    }
}
