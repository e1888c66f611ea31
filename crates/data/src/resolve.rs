//! Finding dataset files on disk (or downloading them) and loading them as a [`Dataset`].
//!
//! Search order, per file: an explicit directory, `$NEURITE_DATA`, the project's `data/`
//! cache, `/usr/share/datasets/` (Debian's `dataset-*` packages), and then a download into the
//! first writable candidate. Each root holds one directory per dataset (`<root>/<name>/`).
//! [`Resolver::only`] searches one directory and nothing else.
//!
//! In each directory a file is looked for as published (`train-images-idx3-ubyte.gz`), verified
//! against its SHA-256, and then uncompressed (`train-images-idx3-ubyte`, as left by `gunzip`
//! or PyTorch), verified by its structure: a well-formed IDX file of exactly the published shape
//! and sample count. A file that is present but damaged is an error naming it, never skipped in
//! favour of a copy elsewhere.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array4, Ix1};

use crate::checksum::sha256_file_cached;
use crate::dataset::Dataset;
use crate::descriptor::{DatasetInfo, FileInfo, FileKind, Split};
use crate::error::{DataError, Result};
use crate::idx::read_idx_as;

/// The environment variable naming a data root.
pub const DATA_ENV: &str = "NEURITE_DATA";

/// Where Debian's `dataset-*` packages install.
pub const SYSTEM_ROOT: &str = "/usr/share/datasets";

/// Finds, verifies, downloads and loads dataset files.
///
/// ```
/// use neurite_data::{BUNDLED_ROOT, MNIST, Resolver, Split};
/// let test = Resolver::new().root(BUNDLED_ROOT).offline().load(&MNIST, Split::Test)?;
/// assert_eq!(test.len(), 10_000);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Resolver {
    root: Option<PathBuf>,
    /// Search `root` only (`Resolver::only`).
    exclusive: bool,
    use_env: bool,
    cache_root: PathBuf,
    system_root: PathBuf,
    #[cfg(feature = "download")]
    downloader: Option<crate::download::Downloader>,
}

impl Default for Resolver {
    fn default() -> Self {
        Self::new()
    }
}

impl Resolver {
    /// The default search: `$NEURITE_DATA`, `./data`, `/usr/share/datasets`, then (with the
    /// `download` feature) the public mirrors.
    pub fn new() -> Self {
        Resolver {
            root: None,
            exclusive: false,
            use_env: true,
            cache_root: PathBuf::from("data"),
            system_root: PathBuf::from(SYSTEM_ROOT),
            #[cfg(feature = "download")]
            downloader: Some(crate::download::Downloader::new()),
        }
    }

    /// Searches `root/<name>/` first, and downloads there.
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// Searches only `dir`: its `<name>/` subdirectory when it has one, else `dir` itself, and
    /// downloads (if enabled) there. Nothing in `$NEURITE_DATA`, the cache or the system
    /// directory is used, so a user who names a directory gets exactly its files or an error.
    pub fn only(mut self, dir: impl Into<PathBuf>) -> Self {
        self.root = Some(dir.into());
        self.exclusive = true;
        self
    }

    /// Ignores `$NEURITE_DATA`.
    pub fn ignore_env(mut self) -> Self {
        self.use_env = false;
        self
    }

    /// The project cache root (default `data`, relative to the current directory).
    pub fn cache_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.cache_root = root.into();
        self
    }

    /// The system root (default `/usr/share/datasets`).
    pub fn system_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.system_root = root.into();
        self
    }

    /// Never downloads; a missing file is an error.
    #[cfg_attr(not(feature = "download"), allow(unused_mut))]
    pub fn offline(mut self) -> Self {
        #[cfg(feature = "download")]
        {
            self.downloader = None;
        }
        self
    }

    /// Downloads missing files with this downloader.
    #[cfg(feature = "download")]
    pub fn downloader(mut self, downloader: crate::download::Downloader) -> Self {
        self.downloader = Some(downloader);
        self
    }

    /// The directories searched for `dataset`, in order.
    pub fn search_dirs(&self, dataset: &DatasetInfo) -> Vec<PathBuf> {
        if let (true, Some(root)) = (self.exclusive, &self.root) {
            let sub = root.join(dataset.name);
            return vec![if sub.is_dir() { sub } else { root.clone() }];
        }
        let mut roots: Vec<PathBuf> = Vec::new();
        roots.extend(self.root.clone());
        if self.use_env {
            roots.extend(
                std::env::var_os(DATA_ENV)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from),
            );
        }
        roots.push(self.cache_root.clone());
        roots.push(self.system_root.clone());
        roots.into_iter().map(|r| r.join(dataset.name)).collect()
    }

    /// The verified path of `file`, downloading it if it is nowhere on disk.
    ///
    /// # Errors
    /// [`DataError::ChecksumMismatch`] for a published file that is present but damaged,
    /// [`DataError::NotFound`] (or a download error) when it is nowhere.
    pub fn locate(&self, dataset: &DatasetInfo, file: &FileInfo) -> Result<PathBuf> {
        Ok(self.find(dataset, file)?.path)
    }

    /// Where `file` is and how it was (or will be) verified; see [`Resolver::locate`].
    ///
    /// # Errors
    /// As [`Resolver::locate`].
    pub fn find(&self, dataset: &DatasetInfo, file: &FileInfo) -> Result<Located> {
        let dirs = self.search_dirs(dataset);
        for dir in &dirs {
            let path = dir.join(file.name);
            if path.is_file() {
                verify(dataset, file, &path)?;
                return Ok(Located {
                    path,
                    check: Check::Sha256,
                });
            }
            if let Some(plain) = file.name.strip_suffix(".gz").map(|n| dir.join(n))
                && plain.is_file()
            {
                return Ok(Located {
                    path: plain,
                    check: Check::Structure,
                });
            }
        }
        Ok(Located {
            path: self.download_missing(dataset, file, dirs)?,
            check: Check::Sha256,
        })
    }

    #[cfg(feature = "download")]
    fn download_missing(
        &self,
        dataset: &DatasetInfo,
        file: &FileInfo,
        dirs: Vec<PathBuf>,
    ) -> Result<PathBuf> {
        let Some(downloader) = &self.downloader else {
            return Err(not_found(dataset, file, dirs));
        };
        // The system root is not ours to write to; the first other candidate is.
        let target = dirs
            .first()
            .cloned()
            .unwrap_or_else(|| self.cache_root.join(dataset.name));
        let mut progress = crate::download::NoProgress;
        let fetched = downloader
            .fetch(dataset, file, &target, &mut progress)
            .map_err(|e| match e {
                DataError::DownloadFailed {
                    file,
                    dir,
                    attempts,
                    hint,
                } => DataError::DownloadFailed {
                    file,
                    dir,
                    attempts,
                    hint: format!(
                        "Not found on disk either; looked in: {}. {hint}",
                        list(&dirs)
                    ),
                },
                other => other,
            })?;
        Ok(fetched.path().to_path_buf())
    }

    #[cfg(not(feature = "download"))]
    fn download_missing(
        &self,
        dataset: &DatasetInfo,
        file: &FileInfo,
        dirs: Vec<PathBuf>,
    ) -> Result<PathBuf> {
        Err(not_found(dataset, file, dirs))
    }

    /// Loads `split` of `dataset`: finds and verifies both files, then reads them.
    ///
    /// # Errors
    /// As [`Resolver::locate`], any IDX error of a damaged file (with its path and the offset
    /// where it goes wrong), and [`DataError::WrongShape`] for an uncompressed file with fewer
    /// or more samples than the published one.
    pub fn load(&self, dataset: &DatasetInfo, split: Split) -> Result<Dataset> {
        Ok(self.load_located(dataset, split)?.0)
    }

    /// As [`Resolver::load`], also saying where the images and the labels came from (in that
    /// order), so a caller can tell the user.
    ///
    /// # Errors
    /// As [`Resolver::load`].
    pub fn load_located(
        &self,
        dataset: &DatasetInfo,
        split: Split,
    ) -> Result<(Dataset, [Located; 2])> {
        let missing = |kind| {
            DataError::arg(
                "Resolver::load",
                "dataset",
                format!("{} lists no {kind:?} file for {split:?}", dataset.name),
            )
        };
        let images_file = dataset
            .file(split, FileKind::Images)
            .ok_or_else(|| missing(FileKind::Images))?;
        let labels_file = dataset
            .file(split, FileKind::Labels)
            .ok_or_else(|| missing(FileKind::Labels))?;
        let images = self.find(dataset, images_file)?;
        let labels = self.find(dataset, labels_file)?;
        let data = load_files(dataset, &images.path, &labels.path)?;
        // A published file's digest fixes its length; an uncompressed one could be a complete,
        // well-formed IDX file of fewer samples (cut and re-headed), so its count is checked.
        for (found, what) in [(&images, "images"), (&labels, "labels")] {
            if found.check == Check::Structure && data.len() != images_file.samples {
                let [_, height, width] = dataset.image_shape;
                let expected = if what == "images" {
                    format!("[{}, {height}, {width}]", images_file.samples)
                } else {
                    format!("[{}]", labels_file.samples)
                };
                let mut got = vec![data.len()];
                if what == "images" {
                    got.extend([height, width]);
                }
                return Err(DataError::WrongShape {
                    path: found.path.clone(),
                    what,
                    expected: format!(
                        "{expected} as published (the file is incomplete or not the {} file; \
                         replace it with the original)",
                        dataset.name
                    ),
                    got,
                });
            }
        }
        Ok((data, [images, labels]))
    }
}

/// How a file found on disk was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// A published file: its SHA-256 is one of the known digests.
    Sha256,
    /// An uncompressed file (no published digest): well-formed IDX of the published shape.
    Structure,
}

/// A dataset file found on disk, and how it was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Where it is.
    pub path: PathBuf,
    /// How it is verified.
    pub check: Check,
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.check {
            Check::Sha256 => "SHA-256 verified",
            Check::Structure => "uncompressed, verified by its IDX structure",
        };
        write!(f, "{} ({how})", self.path.display())
    }
}

/// Reads an images file and a labels file of `dataset` (no checksum check) into a [`Dataset`].
///
/// The images must be `u8` `[N, H, W]` with the dataset's `H, W`; the labels `u8` `[N]` in
/// `0..num_classes`.
pub fn load_files(
    dataset: &DatasetInfo,
    images_path: &Path,
    labels_path: &Path,
) -> Result<Dataset> {
    let [channels, height, width] = dataset.image_shape;
    let images = read_idx_as::<u8>(images_path)?;
    let wrong_images = |got: Vec<usize>| DataError::WrongShape {
        path: images_path.to_path_buf(),
        what: "images",
        expected: format!("[N, {height}, {width}]"),
        got,
    };
    let shape = images.shape().to_vec();
    if shape.len() != 3 || shape[1..] != [height, width] {
        return Err(wrong_images(shape));
    }
    let n = shape[0];
    let images: Array4<u8> = images
        .into_shape_with_order((n, channels, height, width))
        .map_err(|_| wrong_images(shape))?;

    let labels = read_idx_as::<u8>(labels_path)?;
    let labels_shape = labels.shape().to_vec();
    let labels: Array1<u8> =
        labels
            .into_dimensionality::<Ix1>()
            .map_err(|_| DataError::WrongShape {
                path: labels_path.to_path_buf(),
                what: "labels",
                expected: "[N]".into(),
                got: labels_shape,
            })?;
    Dataset::new(images, labels, dataset.num_classes())
}

fn verify(dataset: &DatasetInfo, file: &FileInfo, path: &Path) -> Result<()> {
    let got = sha256_file_cached(path)?;
    if file.sha256.contains(&got.as_str()) {
        Ok(())
    } else {
        Err(DataError::ChecksumMismatch {
            path: path.to_path_buf(),
            dataset: dataset.name,
            expected: file.sha256.to_vec(),
            got,
        })
    }
}

fn not_found(dataset: &DatasetInfo, file: &FileInfo, searched: Vec<PathBuf>) -> DataError {
    DataError::NotFound {
        dataset: dataset.name,
        file: file.name,
        searched,
        hint: format!(
            "Run `cargo xtask download {}` (or enable downloads), or supply the file by hand. {}",
            dataset.name, dataset.manual_hint
        ),
    }
}

#[cfg(feature = "download")]
fn list(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
