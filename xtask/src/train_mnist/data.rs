//! Where the training data comes from: files on disk, a download, or the bundled sample.
//!
//! Order: `--data DIR`, `$NEURITE_DATA`, `./data`, `/usr/share/datasets` (all through the
//! resolver, offline), then a download into the first writable of those (skipped with
//! `--offline`, and bounded to a few seconds when the network is unreachable). When MNIST is
//! still missing, the real MNIST test set bundled in neurite-data is split 8,000 / 2,000 and the
//! run says so everywhere it reports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use neurite::data::{
    DATA_ENV, DataError, Dataset, DatasetInfo, Downloader, FULL_MNIST_COMMAND, MNIST, Resolver,
    SAMPLE_TRAIN, Split,
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
/// sample (MNIST only). Errors only for a corrupt file or a dataset with no fallback.
pub fn load(
    info: &'static DatasetInfo,
    data: Option<&Path>,
    offline: bool,
) -> anyhow::Result<Loaded> {
    let mut resolver = Resolver::new().offline();
    if let Some(dir) = data {
        resolver = resolver.root(dir);
    }
    let missing = match from_disk(&resolver, info) {
        Ok((train, test, dir)) => {
            return Ok(Loaded {
                train,
                test,
                source: Source::Files(dir),
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
        Err(other) => return Err(other.into()),
    };

    let why = if offline {
        format!("{missing}; --offline: no download tried")
    } else {
        let target = download_dir(data).join(info.name);
        match download(&resolver, info, &target) {
            Ok(()) => {
                // The download directory is on the resolver's search path.
                let (train, test, _) = from_disk(&resolver, info)?;
                return Ok(Loaded {
                    train,
                    test,
                    source: Source::Downloaded(target),
                });
            }
            Err(reason) => format!("{missing}; the download failed: {reason}"),
        }
    };

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

/// Both splits from disk, and the directory the training images were found in.
fn from_disk(
    resolver: &Resolver,
    info: &DatasetInfo,
) -> Result<(Dataset, Dataset, PathBuf), DataError> {
    let train = resolver.load(info, Split::Train)?;
    let test = resolver.load(info, Split::Test)?;
    let dir = info
        .files
        .first()
        .and_then(|file| resolver.locate(info, file).ok())
        .and_then(|path| path.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    Ok((train, test, dir))
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
        let empty = std::env::temp_dir().join(format!("neurite-empty-data-{}", std::process::id()));
        let loaded = load(&MNIST, Some(&empty), true).unwrap();
        assert_eq!((loaded.train.len(), loaded.test.len()), (8_000, 2_000));
        let Source::BundledSample { why } = &loaded.source else {
            panic!("expected the bundled sample")
        };
        assert!(why.contains("--offline"), "{why}");
    }
}
