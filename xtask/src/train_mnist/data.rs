//! Where the training data comes from: files on disk, a download, or the bundled sample.
//!
//! With `--data DIR`, only DIR is used (its `<dataset>/` subdirectory, or DIR itself): missing
//! files are downloaded there (unless `--offline`) or the run fails; nothing is taken from
//! anywhere else, not even the bundled sample. Without it: `$NEURITE_DATA`, `./data`,
//! `/usr/share/datasets` (all through the resolver, offline), then a download into the first
//! writable of those (skipped with `--offline`, and bounded to a few seconds when the network is
//! unreachable), and when MNIST is still missing, the real MNIST test set bundled in
//! neurite-data is split 8,000 / 2,000 and the run says so everywhere it reports. A file that is
//! present but damaged stops the run with an error whose first line says so and where it is.
//! Every file used is printed with its path and how it was verified.

use std::path::{Path, PathBuf};
use std::time::Duration;

use neurite::data::{
    DATA_ENV, DataError, Dataset, DatasetInfo, Downloader, FULL_MNIST_COMMAND, Located, MNIST,
    Resolver, SAMPLE_TRAIN, Split,
};

/// How long an unreachable network may delay the run, in total (DNS, refused or dropped).
const GIVE_UP_AFTER: Duration = Duration::from_secs(5);
/// Each connection attempt's own limit (within the budget above).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the data of this run came from.
pub enum Source {
    /// Verified files found in this directory.
    Files(PathBuf),
    /// Downloaded (and verified) into this directory during this run.
    Downloaded(PathBuf),
    /// The bundled MNIST test set split 8,000 / 2,000, because the full set was unavailable.
    BundledSample {
        /// Why the full set could not be used (where it looked, why the download failed).
        why: String,
    },
}

impl Source {
    /// A short tag for JSON: `files`, `downloaded` or `bundled-sample`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Files(_) => "files",
            Source::Downloaded(_) => "downloaded",
            Source::BundledSample { .. } => "bundled-sample",
        }
    }

    /// One line for the report's settings table.
    pub fn describe(&self) -> String {
        match self {
            Source::Files(dir) => format!("files in {}", dir.display()),
            Source::Downloaded(dir) => format!("downloaded into {}", dir.display()),
            Source::BundledSample { .. } => format!(
                "bundled sample: the 10,000 MNIST test images split {} train / {} test",
                thousands(SAMPLE_TRAIN),
                thousands(10_000 - SAMPLE_TRAIN)
            ),
        }
    }

    /// The announcement of a fallback, for the terminal, `metrics.json` and `report.html`.
    pub fn notice(&self) -> Option<String> {
        let Source::BundledSample { why } = self else {
            return None;
        };
        Some(format!(
            "The full MNIST training set is not available here ({why}). This run trains on the \
             sample bundled with neurite instead: the 10,000 real MNIST test images, split {} \
             for training and {} for testing, so its accuracy is not comparable with the standard \
             60,000 / 10,000 split. To get the full set, run once where the network is reachable: \
             `{FULL_MNIST_COMMAND}`",
            thousands(SAMPLE_TRAIN),
            thousands(10_000 - SAMPLE_TRAIN)
        ))
    }
}

/// `n` with a comma every three digits (8,000).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    // A leading group of 1 to 3 digits, then groups of exactly 3 (ASCII, so byte slicing is safe).
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut groups = vec![&digits[..head]];
    groups.extend((head..digits.len()).step_by(3).map(|i| &digits[i..i + 3]));
    groups.join(",")
}

/// The training and test sets of one run.
pub struct Loaded {
    /// Training images (before `--limit`).
    pub train: Dataset,
    /// Test images.
    pub test: Dataset,
    /// Where they came from.
    pub source: Source,
}

/// Finds `info` on disk, else downloads it (unless `offline`), else falls back to the bundled
/// sample (MNIST, and only when no `--data` was given). Errors for a corrupt file, for a
/// `--data` directory that lacks files, and for a dataset with no fallback.
pub fn load(
    info: &'static DatasetInfo,
    data: Option<&Path>,
    offline: bool,
) -> anyhow::Result<Loaded> {
    let resolver = match data {
        Some(dir) => Resolver::new().only(dir).offline(),
        None => Resolver::new().offline(),
    };
    let missing = match from_disk(&resolver, info) {
        Ok((train, test, found)) => {
            announce(info, &found);
            return Ok(Loaded {
                train,
                test,
                source: Source::Files(parent(&found[0])),
            });
        }
        Err(DataError::NotFound { file, searched, .. }) => format!(
            "{file} is not in {}",
            searched
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(other) => return Err(corrupt_first(info, other)),
    };

    let why = if offline {
        format!("{missing}; --offline: no download tried")
    } else {
        let target = match data {
            // The directory `only` searches, so the download is found there afterwards.
            Some(_) => resolver.search_dirs(info).remove(0),
            None => download_dir(None).join(info.name),
        };
        match download(&resolver, info, &target) {
            Ok(()) => {
                // The download directory is on the resolver's search path.
                let (train, test, found) =
                    from_disk(&resolver, info).map_err(|e| corrupt_first(info, e))?;
                announce(info, &found);
                return Ok(Loaded {
                    train,
                    test,
                    source: Source::Downloaded(target),
                });
            }
            Err(reason) => format!("{missing}; the download failed: {reason}"),
        }
    };

    if let Some(dir) = data {
        anyhow::bail!(
            "{} is not complete in {} (named by --data, so no other place is used): {why}. \
             Put the files there (as published, .gz, or uncompressed), or leave out --data to \
             search the usual places{}",
            info.name,
            dir.display(),
            if info.name == MNIST.name {
                " and fall back to the bundled sample"
            } else {
                ""
            }
        );
    }
    if info.name != MNIST.name {
        anyhow::bail!(
            "{} is not available: {why}. {}",
            info.name,
            info.manual_hint
        );
    }
    let (train, test) = neurite::data::mnist_sample()?;
    Ok(Loaded {
        train,
        test,
        source: Source::BundledSample { why },
    })
}

/// A damaged file's error with a first line that says so and names the file; other errors as
/// they are.
fn corrupt_first(info: &DatasetInfo, e: DataError) -> anyhow::Error {
    match (e.is_corrupt(), e.path().map(Path::to_path_buf)) {
        (true, Some(path)) => anyhow::Error::new(e).context(format!(
            "{} file {} is corrupt: replace it with the original (or delete it and run \
             `cargo xtask download {}`)",
            info.name,
            path.display(),
            info.name
        )),
        _ => e.into(),
    }
}

/// Prints where each file came from and how it was verified.
fn announce(info: &DatasetInfo, found: &[Located; 4]) {
    let roles = ["train images", "train labels", "test images", "test labels"];
    eprintln!("{} files:", info.name);
    for (role, file) in roles.iter().zip(found) {
        eprintln!("  {role:<12}  {file}");
    }
}

/// The directory of a located file.
fn parent(found: &Located) -> PathBuf {
    found
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Both splits from disk, and where the train images, train labels, test images and test
/// labels were found.
fn from_disk(
    resolver: &Resolver,
    info: &DatasetInfo,
) -> Result<(Dataset, Dataset, [Located; 4]), DataError> {
    let (train, [a, b]) = resolver.load_located(info, Split::Train)?;
    let (test, [c, d]) = resolver.load_located(info, Split::Test)?;
    Ok((train, test, [a, b, c, d]))
}

/// Where a download goes: `--data`, else `$NEURITE_DATA`, else `./data`.
fn download_dir(data: Option<&Path>) -> PathBuf {
    data.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(DATA_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("data"))
}

/// Downloads every file of `info` that is not on disk into `target`, with a progress bar;
/// stops at the first failure (offline, the others would fail the same way). `Err` is the
/// short reason.
fn download(resolver: &Resolver, info: &DatasetInfo, target: &Path) -> Result<(), String> {
    eprintln!(
        "{}: not found on disk; downloading into {} (gives up within {} s when offline; --offline skips this)",
        info.name,
        target.display(),
        GIVE_UP_AFTER.as_secs()
    );
    let downloader = Downloader::new()
        .timeouts(CONNECT_TIMEOUT, Duration::from_secs(600))
        .give_up_after(GIVE_UP_AFTER);
    for file in info.files {
        if resolver.locate(info, file).is_ok() {
            continue;
        }
        let mut bar = crate::download::Bar::new(format!("{}/{}", info.name, file.name));
        if let Err(e) = downloader.fetch(info, file, target, &mut bar) {
            return Err(match e {
                // The first attempt says why (the rest usually repeat it); count the others.
                DataError::DownloadFailed { attempts, .. } => match attempts.split_first() {
                    None => "no mirror to try".to_string(),
                    Some(((url, why), [])) => format!("{url}: {why}"),
                    Some(((url, why), _)) => format!("{url}: {why}; the other mirrors failed too"),
                },
                other => other.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(8_000), "8,000");
        assert_eq!(thousands(60_000), "60,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_fallback_notice_says_what_and_how_to_get_the_full_set() {
        let source = Source::BundledSample {
            why: "offline".into(),
        };
        let text = source.notice().unwrap();
        assert!(text.contains("(offline)"), "{text}");
        assert!(
            text.contains("8,000 for training and 2,000 for testing"),
            "{text}"
        );
        assert!(text.ends_with("`cargo xtask download mnist`"), "{text}");
        assert_eq!(source.kind(), "bundled-sample");
        assert!(
            Source::Files(PathBuf::from("data/mnist"))
                .notice()
                .is_none()
        );
    }

    #[test]
    fn offline_mnist_falls_back_to_the_bundled_sample() {
        let elsewhere = std::env::var_os(DATA_ENV).is_some()
            || Path::new("/usr/share/datasets/mnist").exists()
            || Path::new("data/mnist").exists();
        if elsewhere {
            // A real copy on this machine wins over the fallback, as it should.
            return;
        }
        let loaded = load(&MNIST, None, true).unwrap();
        assert_eq!((loaded.train.len(), loaded.test.len()), (8_000, 2_000));
        let Source::BundledSample { why } = &loaded.source else {
            panic!("expected the bundled sample")
        };
        assert!(why.contains("--offline"), "{why}");
    }

    /// A root for `--data` whose `mnist/` holds the bundled test set uncompressed under the
    /// names of the training files (the first a run reads), the images cut short.
    fn damaged_data_dir() -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mnist");
        std::fs::create_dir(&dir).unwrap();
        let gz = Path::new(neurite::data::BUNDLED_ROOT).join("mnist/t10k-images-idx3-ubyte.gz");
        let images = neurite::data::read_idx(&gz).unwrap();
        let mut plain = neurite::data::encode_idx(&images, &gz).unwrap();
        plain.truncate(500_016);
        let path = dir.join("train-images-idx3-ubyte");
        std::fs::write(&path, plain).unwrap();
        let gz = Path::new(neurite::data::BUNDLED_ROOT).join("mnist/t10k-labels-idx1-ubyte.gz");
        let labels = neurite::data::read_idx(&gz).unwrap();
        let labels = neurite::data::encode_idx(&labels, &gz).unwrap();
        std::fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
        (root, path)
    }

    #[test]
    fn a_damaged_file_in_data_dir_is_an_error_that_says_corrupt_first() {
        let (root, path) = damaged_data_dir();
        let err = load(&MNIST, Some(root.path()), true).err().unwrap();
        let first = err.to_string();
        assert!(
            first.starts_with(&format!("mnist file {} is corrupt", path.display())),
            "{first}"
        );
        // The cause says what is wrong and where the data stops.
        let chain = format!("{err:#}");
        assert!(
            chain.contains("truncated") && chain.contains("only 500000"),
            "{chain}"
        );
    }

    #[test]
    fn an_explicit_data_dir_is_never_supplemented() {
        let root = tempfile::tempdir().unwrap();
        let err = load(&MNIST, Some(root.path()), true).err().unwrap();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "mnist is not complete in {}",
                root.path().display()
            )) && text.contains("named by --data")
                && text.contains("--offline"),
            "{text}"
        );
    }
}
