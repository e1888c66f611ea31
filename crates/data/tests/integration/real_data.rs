//! The real files: the MNIST test set bundled in this crate, and Fashion-MNIST from
//! Debian's `dataset-fashion-mnist` when it is installed (CI installs it).

use neurite_testing::{probe, require};
use std::path::{Path, PathBuf};

use neurite_data::{
    BUNDLED_ROOT, DataError, FASHION_MNIST, MNIST, Resolver, SAMPLE_TRAIN, Split, read_idx_as,
    sha256_file,
};

/// The bundled data root: holds `mnist/` with the real test set.
fn bundled_root() -> PathBuf {
    PathBuf::from(BUNDLED_ROOT)
}

/// A resolver that only looks at `root` (no environment, cache, system dir or network).
fn only(root: &Path) -> Resolver {
    let nowhere = root.join("no-such-dir");
    Resolver::new()
        .root(root)
        .ignore_env()
        .cache_root(&nowhere)
        .system_root(&nowhere)
        .offline()
}

#[test]
fn mnist_test_files_match_their_checksums() {
    let dir = bundled_root().join("mnist");
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    for split_file in MNIST.files.iter().filter(|f| f.split == Split::Test) {
        let got = sha256_file(dir.join(split_file.name)).unwrap();
        assert_eq!(split_file.sha256, [got.as_str()]);
        assert!(
            sums.contains(&format!("{got}  {}", split_file.name)),
            "SHA256SUMS disagrees"
        );
    }
}

#[test]
fn mnist_test_set_loads_with_the_known_label_counts() {
    let test = only(&bundled_root()).load(&MNIST, Split::Test).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(test.images_u8().shape(), [10_000, 1, 28, 28]);
    assert_eq!(
        test.label_histogram(),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(
        test.labels().iter().take(10).copied().collect::<Vec<_>>(),
        [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    );

    let x = test.images_f32();
    assert_eq!(x.shape(), [10_000, 1, 28, 28]);
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert_eq!(x.iter().cloned().fold(f32::MIN, f32::max), 1.0);
    // The border of MNIST digits is blank; the centre of the first digit (a 7) is not.
    assert!(x.slice(ndarray::s![.., 0, 0, ..]).iter().all(|&v| v == 0.0));
    assert!(
        test.images_u8()
            .slice(ndarray::s![0, 0, 8..20, 8..20])
            .iter()
            .any(|&b| b > 200)
    );
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
    assert!((mean - 0.1325).abs() < 0.001, "mean pixel {mean}"); // 33.79 / 255

    let y = test.labels_one_hot();
    assert_eq!(y.shape(), [10_000, 10]);
    assert_eq!(y.row(0).to_vec(), [0., 0., 0., 0., 0., 0., 0., 1., 0., 0.]);
    assert_eq!(y.sum(), 10_000.0);
}

#[test]
fn raw_idx_headers_of_mnist() {
    let dir = bundled_root().join("mnist");
    let images = read_idx_as::<u8>(dir.join("t10k-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(images.shape(), [10_000, 28, 28]);
    let labels = read_idx_as::<u8>(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(labels.shape(), [10_000]);
}

#[test]
fn a_corrupt_copy_is_refused_with_the_file_and_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    let src = bundled_root().join("mnist");
    std::fs::copy(
        src.join("t10k-images-idx3-ubyte.gz"),
        dir.join("t10k-images-idx3-ubyte.gz"),
    )
    .unwrap();
    let mut labels = std::fs::read(src.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    labels[100] ^= 0x10;
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), labels).unwrap();

    let err = only(root.path()).load(&MNIST, Split::Test).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::ChecksumMismatch {
                dataset: "mnist",
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("t10k-labels-idx1-ubyte.gz") && msg.contains("cargo xtask download mnist"),
        "{msg}"
    );
}

#[test]
fn a_missing_split_says_where_it_looked_and_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let err = only(root.path()).load(&MNIST, Split::Train).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::NotFound {
                file: "train-images-idx3-ubyte.gz",
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&root.path().join("mnist").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("cargo xtask download mnist"), "{msg}");
}

#[test]
fn the_search_order_prefers_the_explicit_root() {
    let root = tempfile::tempdir().unwrap();
    let dirs = Resolver::new()
        .root(root.path())
        .ignore_env()
        .cache_root("cache")
        .system_root("/sys-root")
        .search_dirs(&FASHION_MNIST);
    assert_eq!(
        dirs,
        [
            root.path().join("fashion-mnist"),
            PathBuf::from("cache/fashion-mnist"),
            PathBuf::from("/sys-root/fashion-mnist")
        ]
    );
    assert_eq!(
        Resolver::new()
            .ignore_env()
            .search_dirs(&MNIST)
            .last()
            .unwrap(),
        Path::new("/usr/share/datasets/mnist")
    );
}

#[test]
fn fashion_mnist_from_debian_all_70k() {
    let debian = require!(
        "fashion_mnist_from_debian_all_70k",
        probe::debian_fashion_mnist()
    );
    let resolver = only(Path::new("/nonexistent")).system_root("/usr/share/datasets");
    let train = resolver.load(&FASHION_MNIST, Split::Train).unwrap();
    let test = resolver.load(&FASHION_MNIST, Split::Test).unwrap();
    assert_eq!(train.images_u8().shape(), [60_000, 1, 28, 28]);
    assert_eq!(test.images_u8().shape(), [10_000, 1, 28, 28]);
    // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert_eq!(train.label_histogram(), [6000; 10]);
    assert_eq!(test.label_histogram(), [1000; 10]);
    // First test item is an ankle boot (class 9), as in the dataset's README sample.
    assert_eq!(test.labels()[0], 9);
    assert_eq!(
        FASHION_MNIST.class_names[usize::from(test.labels()[0])],
        "Ankle boot"
    );
    for file in FASHION_MNIST.files {
        let got = sha256_file(debian.join(file.name)).unwrap();
        assert!(file.sha256.contains(&got.as_str()), "{}: {got}", file.name);
    }
    let images = train.images_u8();
    assert_eq!(images.iter().copied().max(), Some(255));
    assert_eq!(images.iter().copied().min(), Some(0));
}

#[test]
fn the_bundled_sample_is_the_test_set_split_8000_2000() {
    assert!(
        Path::new(BUNDLED_ROOT).starts_with(env!("CARGO_MANIFEST_DIR")),
        "the bundle must live inside the crate: {BUNDLED_ROOT}"
    );
    let full = neurite_data::bundled_mnist_test().unwrap();
    let (train, test) = neurite_data::mnist_sample().unwrap();
    assert_eq!((train.len(), test.len()), (SAMPLE_TRAIN, 2_000));
    // In order, no shuffling: the two parts are the two ends of the test set.
    assert_eq!(train.labels()[0], full.labels()[0]);
    assert_eq!(test.labels()[0], full.labels()[SAMPLE_TRAIN]);
    assert_eq!(test.labels()[1999], full.labels()[9_999]);
    let both: Vec<usize> = train
        .label_histogram()
        .iter()
        .zip(test.label_histogram())
        .map(|(a, b)| a + b)
        .collect();
    assert_eq!(both, full.label_histogram());
    // Every class is represented in the small test part.
    assert!(
        test.label_histogram().iter().all(|&n| n >= 150),
        "{:?}",
        test.label_histogram()
    );
}
