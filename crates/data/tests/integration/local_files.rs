//! Dataset files as users leave them: uncompressed (`gunzip`, PyTorch), truncated, damaged, or
//! in a directory named explicitly. A present but damaged file is an error naming it (and the
//! offset where it goes wrong), never skipped for a copy elsewhere; `Resolver::only` uses one
//! directory and nothing else.

use std::io::Read;
use std::path::{Path, PathBuf};

use neurite_data::{BUNDLED_ROOT, Check, DataError, MNIST, Resolver, Split};

const IMAGES: &str = "t10k-images-idx3-ubyte";
const LABELS: &str = "t10k-labels-idx1-ubyte";

fn bundled(name: &str) -> PathBuf {
    Path::new(BUNDLED_ROOT).join("mnist").join(name)
}

fn gunzip(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(bundled(&format!("{name}.gz"))).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A root whose `mnist/` holds the test set uncompressed, edited by `edit` (file name, bytes).
fn plain_root(edit: impl Fn(&str, &mut Vec<u8>)) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    for name in [IMAGES, LABELS] {
        let mut bytes = gunzip(name);
        edit(name, &mut bytes);
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    root
}

/// The default search with the bundled copy as the fallback behind `root`.
fn with_fallback(root: &Path) -> Resolver {
    Resolver::new()
        .root(root)
        .ignore_env()
        .cache_root(BUNDLED_ROOT)
        .system_root(BUNDLED_ROOT)
        .offline()
}

#[test]
fn uncompressed_files_load_like_the_published_ones() {
    let root = plain_root(|_, _| {});
    let (plain, found) = Resolver::new()
        .only(root.path())
        .offline()
        .load_located(&MNIST, Split::Test)
        .unwrap();
    let published = neurite_data::bundled_mnist_test().unwrap();
    assert_eq!(plain.images_u8(), published.images_u8());
    assert_eq!(plain.labels(), published.labels());
    assert_eq!(found[0].path, root.path().join("mnist").join(IMAGES));
    assert_eq!(found[1].path, root.path().join("mnist").join(LABELS));
    assert!(found.iter().all(|f| f.check == Check::Structure));
    assert!(
        found[0]
            .to_string()
            .contains("verified by its IDX structure")
    );
}

/// Issue 14's case: a truncated uncompressed images file in the named directory, a good copy
/// elsewhere. Today's resolver skipped the damaged file and paired another directory's images
/// with these labels; now both searches refuse it with its path and where it ends.
#[test]
fn a_truncated_uncompressed_file_is_refused_not_replaced() {
    let root = plain_root(|name, bytes| {
        if name == IMAGES {
            bytes.truncate(1_000_016);
        }
    });
    let path = root.path().join("mnist").join(IMAGES);
    for resolver in [
        Resolver::new().only(root.path()).offline(),
        with_fallback(root.path()),
    ] {
        let err = resolver.load(&MNIST, Split::Test).unwrap_err();
        assert!(
            matches!(&err, DataError::Truncated { part: "data", got, .. } if *got == 1_000_000),
            "{err}"
        );
        assert!(
            err.is_corrupt() && err.path() == Some(path.as_path()),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with(&path.display().to_string()) && text.contains("only 1000000"),
            "{text}"
        );
    }
}

/// A well-formed but shorter file (cut and re-headed) is caught by the published sample count.
#[test]
fn an_uncompressed_subset_is_refused_by_its_sample_count() {
    let root = plain_root(|name, bytes| {
        // Keep 100 samples and say so in the header: structurally valid, but not MNIST's file.
        let per_sample = if name == IMAGES { 784 } else { 1 };
        let header = if name == IMAGES { 16 } else { 8 };
        bytes.truncate(header + 100 * per_sample);
        bytes[4..8].copy_from_slice(&100u32.to_be_bytes());
    });
    let err = Resolver::new()
        .only(root.path())
        .offline()
        .load(&MNIST, Split::Test)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, DataError::WrongShape { .. })
            && text.contains("[10000, 28, 28] as published")
            && text.contains(IMAGES),
        "{text}"
    );
}

/// `only` never looks elsewhere: a directory missing a file is an error listing that directory
/// alone, although the bundled copy sits in the cache and system roots.
#[test]
fn only_never_supplements_the_named_directory() {
    let root = plain_root(|_, _| {});
    std::fs::remove_file(root.path().join("mnist").join(LABELS)).unwrap();
    let err = Resolver::new()
        .only(root.path())
        .ignore_env()
        .cache_root(BUNDLED_ROOT)
        .system_root(BUNDLED_ROOT)
        .offline()
        .load(&MNIST, Split::Test)
        .unwrap_err();
    let DataError::NotFound { file, searched, .. } = &err else {
        panic!("expected NotFound, got {err}");
    };
    assert_eq!(*file, "t10k-labels-idx1-ubyte.gz");
    assert_eq!(searched, &[root.path().join("mnist")]);
    assert!(!err.is_corrupt());
    // The default search does use the other roots for a file that is simply missing.
    let (_, found) = with_fallback(root.path())
        .load_located(&MNIST, Split::Test)
        .unwrap();
    assert_eq!(found[1].path, bundled("t10k-labels-idx1-ubyte.gz"));
    assert_eq!(found[1].check, Check::Sha256);
}

/// A directory named with the files directly in it (no `mnist/` level) works too.
#[test]
fn only_accepts_the_dataset_directory_itself() {
    let root = plain_root(|_, _| {});
    let test = Resolver::new()
        .only(root.path().join("mnist"))
        .offline()
        .load(&MNIST, Split::Test)
        .unwrap();
    assert_eq!(test.len(), 10_000);
}

#[test]
fn a_damaged_published_file_says_corrupt_first() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        bundled("t10k-images-idx3-ubyte.gz"),
        dir.join("t10k-images-idx3-ubyte.gz"),
    )
    .unwrap();
    let mut labels = std::fs::read(bundled("t10k-labels-idx1-ubyte.gz")).unwrap();
    labels[200] ^= 1;
    let path = dir.join("t10k-labels-idx1-ubyte.gz");
    std::fs::write(&path, labels).unwrap();
    let err = with_fallback(root.path())
        .load(&MNIST, Split::Test)
        .unwrap_err();
    assert!(
        err.is_corrupt() && err.path() == Some(path.as_path()),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{} is corrupt:", path.display())),
        "{err}"
    );
}
