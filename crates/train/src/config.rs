//! `FitConfig`: the arguments of `Model::fit`, with Keras' defaults.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ndarray::{ArrayViewD, CowArray, IxDyn};
use neurite_tensor::Float;

use crate::{AsSamples, AsTargets, Callback, Verbosity};

/// Keras' default batch size, for `fit` and `evaluate`.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// Where validation figures come from.
#[derive(Default)]
pub enum Validation<'a, F: Float> {
    /// No validation.
    #[default]
    None,
    /// Separate data `(x, y)` (Keras `validation_data`), borrowed: nothing is copied.
    Data(ArrayViewD<'a, F>, CowArray<'a, F, IxDyn>),
    /// The *last* fraction of the training data, taken before any shuffling (Keras
    /// `validation_split`).
    Split(f64),
}

/// Settings of one `fit` call, built with named setters from Keras' defaults (1 epoch, batch
/// size 32, shuffled, no validation).
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
/// let x_val = ndarray::Array2::<f32>::zeros((10, 4));
/// let y_val: Vec<u8> = vec![0; 10];
/// let config = FitConfig::default().epochs(5).batch_size(64).validation_data(&x_val, &y_val).seed(7).silent();
/// assert_eq!((config.epochs, config.batch_size, config.seed), (5, 64, 7));
/// assert_eq!(FitConfig::<f32>::default().batch_size, 32);
/// // Epochs 3, 4 and 5 of the same run, after a model saved at the end of epoch 2 is loaded.
/// let rest = FitConfig::<f32>::default().epochs(5).seed(7).initial_epoch(2);
/// assert_eq!(rest.initial_epoch, 2);
/// ```
pub struct FitConfig<'a, F: Float> {
    /// The last epoch to run (the total number of epochs of the run; default 1).
    pub epochs: usize,
    /// Epochs already done: training starts at epoch `initial_epoch + 1` (default 0). With
    /// `initial_epoch >= epochs` there is nothing to do and `fit` returns an empty history.
    pub initial_epoch: usize,
    /// Samples per gradient step (default 32, as in Keras).
    pub batch_size: usize,
    /// Validation data or split.
    pub validation: Validation<'a, F>,
    /// Reshuffle the training samples every epoch (default true).
    pub shuffle: bool,
    /// Seed of the shuffling order.
    pub seed: u64,
    /// Callbacks, called in order.
    pub callbacks: Vec<Box<dyn Callback<F> + 'a>>,
    /// What to print.
    pub verbosity: Verbosity,
    /// Checked after every batch: when set, training stops after the current batch and `fit`
    /// returns the history so far (wire it to Ctrl-C).
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl<F: Float> Default for FitConfig<'_, F> {
    fn default() -> Self {
        FitConfig {
            epochs: 1,
            initial_epoch: 0,
            batch_size: DEFAULT_BATCH_SIZE,
            validation: Validation::None,
            shuffle: true,
            seed: 0,
            callbacks: Vec::new(),
            verbosity: Verbosity::Auto,
            interrupt: None,
        }
    }
}

impl<F: Float> fmt::Debug for FitConfig<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let validation = match &self.validation {
            Validation::None => String::from("none"),
            Validation::Data(x, _) => {
                format!("data of {} samples", x.shape().first().unwrap_or(&0))
            }
            Validation::Split(fraction) => format!("split {fraction}"),
        };
        let callbacks: Vec<&str> = self.callbacks.iter().map(|c| c.name()).collect();
        f.debug_struct("FitConfig")
            .field("epochs", &self.epochs)
            .field("initial_epoch", &self.initial_epoch)
            .field("batch_size", &self.batch_size)
            .field("validation", &validation)
            .field("shuffle", &self.shuffle)
            .field("seed", &self.seed)
            .field("callbacks", &callbacks)
            .field("verbosity", &self.verbosity)
            .finish_non_exhaustive()
    }
}

impl<'a, F: Float> FitConfig<'a, F> {
    /// `epochs` passes in batches of `batch_size`: prefer the named setters,
    /// `FitConfig::default().epochs(5).batch_size(64)`, which cannot be swapped.
    #[doc(hidden)]
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        FitConfig::default().epochs(epochs).batch_size(batch_size)
    }

    neurite_tensor::builder_setters! {
        /// The last epoch to run (Keras `epochs`; with [`FitConfig::initial_epoch`], the total).
        epochs: usize,
        /// Samples per gradient step (Keras `batch_size`, default 32); 0 is refused by `fit`.
        batch_size: usize,
    }

    /// Validates on separate data after every epoch (Keras `validation_data=(x, y)`); the
    /// data is borrowed, not copied. Targets take the same forms as `fit`'s.
    pub fn validation_data<X, Y>(mut self, x: &'a X, y: &'a Y) -> Self
    where
        X: AsSamples<F> + ?Sized,
        Y: AsTargets<F> + ?Sized,
    {
        self.validation = Validation::Data(x.samples(), y.targets());
        self
    }

    /// Holds out the last `fraction` of the training data for validation.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation = Validation::Split(fraction);
        self
    }

    neurite_tensor::builder_setters! {
        /// Continues a run after `epochs_done` epochs (see the field `initial_epoch`).
        initial_epoch: usize,
        /// Sets the shuffling seed.
        seed: u64,
        /// Turns per-epoch shuffling on or off.
        shuffle: bool,
    }

    /// Adds a callback.
    pub fn callback(mut self, callback: impl Callback<F> + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    neurite_tensor::builder_setters! {
        /// Sets what to print.
        verbosity: Verbosity,
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
