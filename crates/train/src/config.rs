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
/// ```
/// use neurite_train::FitConfig;
/// let config = FitConfig::<f32>::new(5, 32).validation_split(0.1).seed(7).silent();
/// assert_eq!((config.epochs, config.batch_size, config.seed), (5, 32, 7));
/// ```
pub struct FitConfig<F: Float> {
    /// Passes over the training data.
    pub epochs: usize,
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
