//! Saving and loading a whole `Model`: the network and the optimizer's state in one safetensors
//! file, so that training resumes exactly where it stopped.

use std::path::Path;

use neurite_layers::Sequential;
use neurite_layers::model_file::SavedOptimizer;
use neurite_losses::Loss;
use neurite_metrics::Score;
use neurite_metrics::streaming::StreamingMetric;
use neurite_optim::{Optimizer, OptimizerState};
use neurite_tensor::Float;

use crate::{Model, Result, TrainError};

/// The optimizer's state, and how many epochs are done, in the form model files store.
pub(crate) fn saved_optimizer<F: Float>(
    optimizer: &dyn Optimizer<F>,
    epochs_completed: usize,
) -> SavedOptimizer<F> {
    let state = optimizer.state();
    SavedOptimizer {
        optimizer: state.optimizer,
        iterations: state.iterations,
        learning_rate: state.learning_rate,
        tensors: state.tensors,
        epochs_completed: Some(epochs_completed as u64),
    }
}

/// Writes the network, the optimizer's state and the epoch count to `path` (atomically).
pub(crate) fn save_network<F: Float>(
    network: &Sequential<F>,
    optimizer: &dyn Optimizer<F>,
    epochs_completed: usize,
    path: &Path,
) -> Result<()> {
    network
        .save_with_optimizer(path, &saved_optimizer(optimizer, epochs_completed))
        .map_err(|e| TrainError::ModelFile(Box::new(e)))
}

impl<F: Float + Score> Model<F> {
    /// Writes the network (architecture, weights, BatchNorm statistics, dropout streams), the
    /// optimizer's state (step count, learning rate, moments) and [`Model::epochs_completed`]
    /// to one safetensors file; the write is atomic. Any safetensors reader can open it;
    /// [`Model::load`] resumes from it. Equal models give byte-identical files.
    ///
    /// # Errors
    /// [`TrainError::ModelFile`] when the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save_network(
            self.network(),
            self.optimizer(),
            self.epochs_completed(),
            path.as_ref(),
        )
    }

    /// Reads a file written by [`Model::save`] (or `Sequential::save`) and compiles the network
    /// with `loss`, `optimizer` and `metrics`. When the file holds optimizer state, it is loaded
    /// into `optimizer`, which must be of the same kind (Adam for Adam state, ...): training
    /// then continues exactly as if it had never stopped (dropout streams included), from
    /// epoch [`Model::epochs_completed`] + 1 when `fit` is given it as
    /// [`crate::FitConfig::initial_epoch()`] (0 for a file without the count). Tensor
    /// checksums are verified; a file without them (written before they existed) loads without
    /// a word here: read it with `neurite_layers::model_file::ModelReader` to get the warning.
    ///
    /// # Errors
    /// [`TrainError::ModelFile`] for a missing, truncated, corrupt or mismatched file, and
    /// [`TrainError::Optim`] when the saved state does not fit `optimizer`. Nothing is half
    /// loaded: on error no model is returned.
    pub fn load(
        path: impl AsRef<Path>,
        loss: impl Loss<F> + 'static,
        mut optimizer: Box<dyn Optimizer<F>>,
        metrics: Vec<Box<dyn StreamingMetric<F>>>,
    ) -> Result<Self> {
        let (network, saved) = Sequential::load_with_optimizer(path)
            .map_err(|e| TrainError::ModelFile(Box::new(e)))?;
        let mut epochs_completed = 0;
        if let Some(saved) = saved {
            epochs_completed = saved.epochs_completed.unwrap_or(0) as usize;
            optimizer.load_state(OptimizerState {
                optimizer: saved.optimizer,
                iterations: saved.iterations,
                learning_rate: saved.learning_rate,
                tensors: saved.tensors,
            })?;
        }
        let mut model = Model::compile(network, loss, optimizer, metrics)?;
        model.set_epochs_completed(epochs_completed);
        Ok(model)
    }
}
