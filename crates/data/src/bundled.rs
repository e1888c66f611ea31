//! The real MNIST test set that ships inside this crate (`bundled/mnist/`, 1.6 MB), so tests,
//! examples and an offline first run have real digits without a download.
//!
//! It is the canonical `t10k` pair with its `SHA256SUMS`, verified like any other copy. The
//! [`mnist_sample`] split (8,000 for training, 2,000 for testing) is what the examples train on
//! and what `cargo xtask train-mnist` falls back to when the full training set is unavailable.

use crate::dataset::Dataset;
use crate::descriptor::{MNIST, Split};
use crate::error::Result;
use crate::resolve::Resolver;

/// The data root holding `mnist/` with the bundled test set (an absolute path into this crate's
/// sources, which exist wherever the crate is built: a checkout or cargo's registry cache).
pub const BUNDLED_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bundled");

/// Images of the bundled set that [`mnist_sample`] puts in its training part; the rest test.
pub const SAMPLE_TRAIN: usize = 8_000;

/// The command that fetches the full 60,000-image MNIST training set (needs the network).
pub const FULL_MNIST_COMMAND: &str = "cargo xtask download mnist";

/// A resolver that looks only at [`BUNDLED_ROOT`]: no environment, cache, system dir or network.
pub fn bundled_resolver() -> Resolver {
    // The other roots point inside the bundle too, so nothing outside it can be picked up.
    Resolver::new()
        .root(BUNDLED_ROOT)
        .ignore_env()
        .cache_root(BUNDLED_ROOT)
        .system_root(BUNDLED_ROOT)
        .offline()
}

/// The bundled MNIST test set: 10,000 images `[10000, 1, 28, 28]`, verified by SHA-256.
///
/// ```
/// let test = neurite_data::bundled_mnist_test()?;
/// assert_eq!(test.len(), 10_000);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
pub fn bundled_mnist_test() -> Result<Dataset> {
    bundled_resolver().load(&MNIST, Split::Test)
}

/// The bundled test set split in order: the first [`SAMPLE_TRAIN`] images to train on, the last
/// 2,000 to test on. Small and real: enough to learn MNIST to about 97 %, offline.
///
/// ```
/// let (train, test) = neurite_data::mnist_sample()?;
/// assert_eq!((train.len(), test.len()), (8_000, 2_000));
/// # Ok::<(), neurite_data::DataError>(())
/// ```
pub fn mnist_sample() -> Result<(Dataset, Dataset)> {
    bundled_mnist_test()?.split_at(SAMPLE_TRAIN)
}
