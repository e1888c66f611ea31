//! Mini-batches over `(x, y)` with per-epoch shuffling: [`Batcher`] assembles them on a
//! background thread from arrays it owns, [`batches_of`] on the calling thread from borrowed ones.
//!
//! While the training loop works on batch `k`, a producer thread gathers batch `k + 1` (and up to
//! `prefetch` batches ahead) into fresh contiguous arrays; a bounded channel keeps the memory use
//! fixed. The order of an epoch depends only on `(seed, epoch)`, through neurite's portable RNG,
//! so it is the same on every machine and for every thread count.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};
use neurite_tensor::Rng;

use crate::error::{DataError, Result};

/// Random streams `SHUFFLE_STREAM + epoch` shuffle the epochs, apart from other RNG consumers.
const SHUFFLE_STREAM: u64 = 0xBA7C_0000_0000;

/// How to cut a dataset into batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Samples per batch (at least 1).
    pub batch_size: usize,
    /// Shuffle the samples at the start of every epoch.
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Drop the last batch when it is smaller than `batch_size`.
    pub drop_last: bool,
    /// Batches prepared ahead on the producer thread (at least 1).
    pub prefetch: usize,
}

impl BatchConfig {
    /// Batches of `batch_size`, shuffled with seed 0, last partial batch kept, 2 prepared ahead.
    pub fn new(batch_size: usize) -> Self {
        BatchConfig {
            batch_size,
            shuffle: true,
            seed: 0,
            drop_last: false,
            prefetch: 2,
        }
    }

    neurite_tensor::builder_setters! {
        /// Sets the shuffle seed.
        seed: u64,
        /// Turns per-epoch shuffling on or off.
        shuffle: bool,
        /// Drops (or keeps) the last, smaller batch.
        drop_last: bool,
        /// Sets how many batches the producer prepares ahead.
        prefetch: usize,
    }

    /// The sample order of `epoch` over `len` samples: a seeded permutation, or `0..len`
    /// without shuffling.
    pub fn order(&self, len: usize, epoch: u64) -> Vec<usize> {
        if self.shuffle {
            Rng::with_stream(self.seed, SHUFFLE_STREAM.wrapping_add(epoch)).permutation(len)
        } else {
            (0..len).collect()
        }
    }

    /// Batches per epoch over `len` samples.
    pub fn num_batches(&self, len: usize) -> usize {
        let b = self.batch_size.max(1);
        if self.drop_last {
            len / b
        } else {
            len.div_ceil(b)
        }
    }
}

/// The batches of `epoch` gathered from `x` and `y` where they lie, on the calling thread: the
/// same batches, in the same order, as [`Batcher::epoch`] with the same configuration, without
/// a copy of the data set (gathering one batch takes microseconds next to a training step).
///
/// # Errors
/// [`DataError::InvalidArgument`] for a zero batch size or arrays without a sample axis,
/// [`DataError::CountMismatch`] when `x` and `y` differ in length.
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use neurite_data::{BatchConfig, batches_of};
/// let x = ArrayD::from_shape_vec(IxDyn(&[5, 2]), (0..10).map(|v| v as f32).collect()).unwrap();
/// let y = ArrayD::from_shape_vec(IxDyn(&[5]), vec![0u8, 1, 2, 3, 4]).unwrap();
/// let sizes: Vec<usize> = batches_of(x.view(), y.view(), BatchConfig::new(2), 0)?
///     .map(|(xb, _)| xb.shape()[0])
///     .collect();
/// assert_eq!(sizes, [2, 2, 1]);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
pub fn batches_of<'a, X: Clone, Y: Clone>(
    x: ArrayViewD<'a, X>,
    y: ArrayViewD<'a, Y>,
    config: BatchConfig,
    epoch: u64,
) -> Result<ViewBatches<'a, X, Y>> {
    check_inputs("batches_of", x.shape(), y.shape(), &config)?;
    let len = y.len_of(Axis(0));
    Ok(ViewBatches {
        order: config.order(len, epoch),
        next: 0,
        remaining: config.num_batches(len),
        batch_size: config.batch_size,
        x,
        y,
    })
}

/// What both batch iterators need of their inputs: a batch size, a sample axis, equal lengths.
fn check_inputs(op: &'static str, x: &[usize], y: &[usize], config: &BatchConfig) -> Result<()> {
    if config.batch_size == 0 {
        return Err(DataError::arg(op, "batch_size", "must be at least 1"));
    }
    let (Some(&images), Some(&labels)) = (x.first(), y.first()) else {
        return Err(DataError::arg(
            op,
            "x, y",
            "need a sample axis (rank at least 1)",
        ));
    };
    if images != labels {
        return Err(DataError::CountMismatch { images, labels });
    }
    Ok(())
}

/// The batches of one epoch over borrowed arrays (see [`batches_of`]).
pub struct ViewBatches<'a, X, Y> {
    x: ArrayViewD<'a, X>,
    y: ArrayViewD<'a, Y>,
    order: Vec<usize>,
    next: usize,
    remaining: usize,
    batch_size: usize,
}

impl<X: Clone, Y: Clone> Iterator for ViewBatches<'_, X, Y> {
    type Item = (ArrayD<X>, ArrayD<Y>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        let chunk = &self.order[self.next..end];
        self.next = end;
        self.remaining -= 1;
        Some((gather(&self.x, chunk), gather(&self.y, chunk)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<X: Clone, Y: Clone> ExactSizeIterator for ViewBatches<'_, X, Y> {}

/// Cuts `(x, y)` into batches along their first axis, epoch after epoch.
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use neurite_data::{BatchConfig, Batcher};
/// let x = ArrayD::from_shape_vec(IxDyn(&[5, 2]), (0..10).map(|v| v as f32).collect()).unwrap();
/// let y = ArrayD::from_shape_vec(IxDyn(&[5]), vec![0u8, 1, 2, 3, 4]).unwrap();
/// let batcher = Batcher::new(x, y, BatchConfig::new(2).seed(7))?;
/// let mut seen = Vec::new();
/// for (xb, yb) in batcher.epoch(0) {
///     assert_eq!(xb.shape()[0], yb.len());
///     // Rows stay paired with their labels.
///     for (row, &label) in xb.outer_iter().zip(yb.iter()) {
///         assert_eq!(row[0], 2.0 * label as f32);
///     }
///     seen.extend(yb.iter().copied());
/// }
/// seen.sort();
/// assert_eq!(seen, vec![0, 1, 2, 3, 4]);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Batcher<X, Y> {
    x: Arc<ArrayD<X>>,
    y: Arc<ArrayD<Y>>,
    config: BatchConfig,
}

impl<X, Y> Batcher<X, Y>
where
    X: Clone + Send + Sync + 'static,
    Y: Clone + Send + Sync + 'static,
{
    /// A batcher over `x` and `y`, which must have the same length along axis 0.
    pub fn new(x: ArrayD<X>, y: ArrayD<Y>, config: BatchConfig) -> Result<Self> {
        let op = "Batcher::new";
        check_inputs(op, x.shape(), y.shape(), &config)?;
        if config.prefetch == 0 {
            return Err(DataError::arg(op, "prefetch", "must be at least 1"));
        }
        // Gathering copies whole rows from contiguous memory.
        let x = if x.is_standard_layout() {
            x
        } else {
            x.as_standard_layout().into_owned()
        };
        let y = if y.is_standard_layout() {
            y
        } else {
            y.as_standard_layout().into_owned()
        };
        Ok(Batcher {
            x: Arc::new(x),
            y: Arc::new(y),
            config,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len_of(Axis(0))
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configuration.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        self.config.num_batches(self.len())
    }

    /// The sample order of `epoch`: a seeded permutation, or `0..len` without shuffling.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        self.config.order(self.len(), epoch)
    }

    /// The batches of `epoch` (counted from 0), prepared on a background thread.
    pub fn epoch(&self, epoch: u64) -> Batches<X, Y> {
        let order = self.order(epoch);
        let batch_size = self.config.batch_size;
        let count = self.num_batches();
        let (x, y) = (Arc::clone(&self.x), Arc::clone(&self.y));
        let (tx, rx) = sync_channel(self.config.prefetch);
        let producer = std::thread::spawn(move || {
            for chunk in order.chunks(batch_size).take(count) {
                let batch = (gather(&x, chunk), gather(&y, chunk));
                // A closed channel means the consumer stopped early: nothing more to do.
                if tx.send(batch).is_err() {
                    break;
                }
            }
        });
        Batches {
            rx: Some(rx),
            producer: Some(producer),
            remaining: count,
        }
    }
}

/// The rows `indices` of an array, as a new array (row copies when it is contiguous).
fn gather<T: Clone, S: ndarray::Data<Elem = T>>(
    a: &ndarray::ArrayBase<S, IxDyn>,
    indices: &[usize],
) -> ArrayD<T> {
    let mut shape = a.shape().to_vec();
    shape[0] = indices.len();
    let row_len: usize = a.shape()[1..].iter().product();
    match a.as_slice() {
        Some(flat) => {
            let mut out = Vec::with_capacity(indices.len() * row_len);
            for &i in indices {
                out.extend_from_slice(&flat[i * row_len..(i + 1) * row_len]);
            }
            ArrayD::from_shape_vec(IxDyn(&shape), out)
                .unwrap_or_else(|_| a.select(Axis(0), indices))
        }
        // A strided view (the batcher itself stores standard layouts).
        None => a.select(Axis(0), indices),
    }
}

/// The batches of one epoch, in order. Dropping it early stops the producer thread.
pub struct Batches<X, Y> {
    rx: Option<Receiver<(ArrayD<X>, ArrayD<Y>)>>,
    producer: Option<JoinHandle<()>>,
    remaining: usize,
}

impl<X, Y> Iterator for Batches<X, Y> {
    type Item = (ArrayD<X>, ArrayD<Y>);

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.rx.as_ref()?.recv().ok()?;
        self.remaining = self.remaining.saturating_sub(1);
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<X, Y> ExactSizeIterator for Batches<X, Y> {}

impl<X, Y> Drop for Batches<X, Y> {
    fn drop(&mut self) {
        // Closing the receiver first unblocks a producer waiting to send.
        self.rx.take();
        if let Some(handle) = self.producer.take() {
            let _ = handle.join();
        }
    }
}
