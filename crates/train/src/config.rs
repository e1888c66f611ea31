//! `FitConfig`: the arguments of `Model::fit`, with Keras' defaults.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use neurite_tensor::{Float, Tensor};

use crate::{Callback, Verbosity};

/// Where validation figures come from.
#[derive(Default)]
pub enum Validation<F: Float> {
    /// No validation.
    #[default]
    None,
    /// Separate data `(x, y)` (Keras `validation_data`), boxed: tensors are large values.
    Data(Box<(Tensor<F>, Tensor<F>)>),
    /// The *last* fraction of the training data, taken before any shuffling (Keras
    /// `validation_split`).
    Split(f64),
}

/// Settings of one `fit` call.
///
/// Epochs are numbered from 1, and `fit` runs epochs `initial_epoch + 1 ..= epochs` (Keras'
/// `fit(epochs=..., initial_epoch=...)`): `epochs` is the total to reach, not a count to add.
/// Every epoch's shuffling order follows from `seed` and the epoch's own number, and callbacks,
/// schedules and the history see the true numbers, so a run cut after epoch k and resumed with
/// `initial_epoch(k)` from the file [`Model::save`](crate::Model::save) wrote
/// ([`Model::epochs_completed`](crate::Model::epochs_completed) says k) ends bit for bit where
/// the uninterrupted run ends. Only the callbacks' own counters (`EarlyStopping`'s patience,
/// `ReduceLROnPlateau`'s wait) start afresh, as in Keras.
///
/// ```
/// use neurite_train::FitConfig;
/// let config = FitConfig::<f32>::new(5, 32).validation_split(0.1).seed(7).silent();
/// assert_eq!((config.epochs, config.batch_size, config.seed), (5, 32, 7));
/// // Epochs 3, 4 and 5 of the same run, after a model saved at the end of epoch 2 is loaded.
/// let rest = FitConfig::<f32>::new(5, 32).seed(7).initial_epoch(2);
/// assert_eq!(rest.initial_epoch, 2);
/// ```
pub struct FitConfig<F: Float> {
    /// The last epoch to run (the total number of epochs of the run).
    pub epochs: usize,
    /// Epochs already done: training starts at epoch `initial_epoch + 1` (default 0). With
    /// `initial_epoch >= epochs` there is nothing to do and `fit` returns an empty history.
    pub initial_epoch: usize,
    /// Samples per gradient step (Keras' default is 32).
    pub batch_size: usize,
    /// Validation data or split.
    pub validation: Validation<F>,
    /// Reshuffle the training samples every epoch (default true).
    pub shuffle: bool,
    /// Seed of the shuffling order.
    pub seed: u64,
    /// Callbacks, called in order.
    pub callbacks: Vec<Box<dyn Callback<F>>>,
    /// What to print.
    pub verbosity: Verbosity,
    /// Checked after every batch: when set, training stops after the current batch and `fit`
    /// returns the history so far (wire it to Ctrl-C).
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl<F: Float> FitConfig<F> {
    /// `epochs` passes in batches of `batch_size`, shuffled with seed 0, no validation.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        FitConfig {
            epochs,
            initial_epoch: 0,
            batch_size,
            validation: Validation::None,
            shuffle: true,
            seed: 0,
            callbacks: Vec::new(),
            verbosity: Verbosity::Auto,
            interrupt: None,
        }
    }

    /// Validates on separate data after every epoch.
    pub fn validation_data(mut self, x: Tensor<F>, y: Tensor<F>) -> Self {
        self.validation = Validation::Data(Box::new((x, y)));
        self
    }

    /// Holds out the last `fraction` of the training data for validation.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation = Validation::Split(fraction);
        self
    }

    /// Continues a run after `epochs_done` epochs (see the field `initial_epoch`).
    pub fn initial_epoch(mut self, epochs_done: usize) -> Self {
        self.initial_epoch = epochs_done;
        self
    }

    /// Sets the shuffling seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Turns per-epoch shuffling on or off.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Adds a callback.
    pub fn callback(mut self, callback: impl Callback<F> + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Sets what to print.
    pub fn verbosity(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
        self
    }

    /// Prints nothing.
    pub fn silent(self) -> Self {
        self.verbosity(Verbosity::Silent)
    }

    /// Stops after the current batch once `flag` is set.
    pub fn interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }
}
