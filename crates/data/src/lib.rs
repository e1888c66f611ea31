//! neurite-data: the IDX file format, the MNIST and Fashion-MNIST datasets, and batching.
//!
//! - [`read_idx`] / [`write_idx`] read and write IDX files of all six element types, plain or
//!   gzip (detected from the magic bytes), validating the header before allocating.
//! - [`MNIST`] and [`FASHION_MNIST`] describe the datasets (files, SHA-256, classes, mirrors);
//!   a [`Resolver`] finds them on disk or downloads them, verifies them and loads a [`Dataset`]:
//!   images `[N, 1, 28, 28]` as `u8` or `f32` in `[0, 1]`, labels as `u8` or one-hot.
//! - The real MNIST test set ships in the crate ([`BUNDLED_ROOT`]): [`bundled_mnist_test`] and
//!   [`mnist_sample`] (8,000 / 2,000) load it with no download.
//! - A [`Batcher`] cuts `(x, y)` into shuffled mini-batches, prepared on a background thread.
//!
//! ```no_run
//! use neurite_data::{BatchConfig, Batcher, FASHION_MNIST, Resolver, Split};
//! let train = Resolver::new().load(&FASHION_MNIST, Split::Train)?;
//! let (train, val) = train.split_validation(0.1)?;
//! let batcher = Batcher::new(train.images_f32(), train.labels_one_hot().into_dyn(), BatchConfig::new(32).seed(1))?;
//! for (x, y) in batcher.epoch(0) {
//!     assert_eq!(x.shape()[1..], [1, 28, 28]);
//!     assert_eq!(y.shape()[1], 10);
//! }
//! # let _ = val;
//! # Ok::<(), neurite_data::DataError>(())
//! ```

mod batch;
mod bundled;
mod checksum;
mod dataset;
mod descriptor;
#[cfg(feature = "download")]
mod download;
mod error;
mod idx;
mod resolve;

pub use batch::{BatchConfig, Batcher, Batches, ViewBatches, batches_of};
pub use bundled::{
    BUNDLED_ROOT, FULL_MNIST_COMMAND, SAMPLE_TRAIN, bundled_mnist_test, bundled_resolver,
    mnist_sample,
};
pub use checksum::{sha256_file, sha256_hex};
pub use dataset::{Dataset, one_hot};
pub use descriptor::{
    DATASETS, DatasetInfo, FASHION_MNIST, FileInfo, FileKind, MNIST, Split, dataset_named,
};
#[cfg(feature = "download")]
pub use download::{DownloadProgress, Downloader, Fetched, NoProgress};
pub use error::{DataError, Result};
pub use idx::{
    Compression, DEFAULT_MAX_BYTES, IdxArray, IdxElement, IdxReader, IdxType, encode_idx, read_idx,
    read_idx_as, write_idx,
};
pub use resolve::{Check, DATA_ENV, Located, Resolver, SYSTEM_ROOT, load_files};
