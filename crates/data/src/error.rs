//! The one error type of neurite-data. Every variant names the file (or argument) at fault, what
//! was expected, what was found, and, where there is one, what to do about it.

use std::path::PathBuf;

/// Result alias for neurite-data.
pub type Result<T> = std::result::Result<T, DataError>;

/// Everything that can go wrong while reading, writing, finding, downloading or batching data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    // === File system ===
    /// An I/O operation on a file failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("open", "read", "write", "rename", ...).
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    // === IDX format ===
    /// The first two bytes of an IDX file must be zero.
    #[error(
        "{}: not an IDX file: magic bytes are {got:02x?}, expected [00, 00, type, ndims] \
         (hint: is this the right file, or an HTML error page saved by a failed download?)",
        path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The four bytes found at offset 0.
        got: [u8; 4],
    },
    /// The third magic byte is not one of the six element types the format defines.
    #[error(
        "{}: unknown IDX element type code 0x{code:02x} at offset 2 \
         (known: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64)",
        path.display()
    )]
    UnknownType {
        /// The file.
        path: PathBuf,
        /// The code found.
        code: u8,
    },
    /// The header's dimensions are unusable: none at all, or a zero-sized axis.
    #[error("{}: bad IDX dimensions {dims:?}: {reason}", path.display())]
    BadDims {
        /// The file.
        path: PathBuf,
        /// The dimensions read so far.
        dims: Vec<u64>,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The header promises more data than the reader accepts or the file can hold.
    #[error(
        "{}: IDX header {dims:?} declares {declared} bytes of data, more than {limit} bytes ({why}); \
         the header is corrupt or hostile",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The declared dimensions.
        dims: Vec<u64>,
        /// Declared data size in bytes (saturated at `u64::MAX` on overflow).
        declared: u64,
        /// The limit it exceeds.
        limit: u64,
        /// Which limit: the reader's cap or what the file's size allows.
        why: &'static str,
    },
    /// The file ends before the header or the data it promises.
    #[error(
        "{}: truncated: the IDX {part} needs {expected} bytes but only {got} are there \
         (hint: the file is incomplete; delete it and fetch it again)",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// "header" or "data".
        part: &'static str,
        /// Bytes needed.
        expected: u64,
        /// Bytes found.
        got: u64,
    },
    /// The file holds more bytes than its header declares.
    #[error(
        "{}: {extra} byte(s) after the {expected} bytes of data the IDX header declares",
        path.display()
    )]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// Data bytes the header declares.
        expected: u64,
        /// Extra bytes found (at least 1; counting stops early on huge excess).
        extra: u64,
    },
    /// The gzip stream is corrupt or ends early.
    #[error(
        "{}: gzip stream {problem}: {detail} (hint: the file is damaged; delete it and fetch it again)",
        path.display()
    )]
    Gzip {
        /// The file.
        path: PathBuf,
        /// "is truncated" or "is corrupt".
        problem: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// The IDX element type is not the one the caller asked for.
    #[error("{}: IDX element type is {got}, expected {expected}", path.display())]
    WrongType {
        /// The file.
        path: PathBuf,
        /// The type asked for.
        expected: &'static str,
        /// The type in the file.
        got: &'static str,
    },
    /// An array cannot be written as IDX.
    #[error("cannot write {} as IDX: shape {shape:?}: {reason}", path.display())]
    Unwritable {
        /// The destination.
        path: PathBuf,
        /// The array's shape.
        shape: Vec<usize>,
        /// Why.
        reason: &'static str,
    },

    // === Datasets ===
    /// A dataset file has the wrong shape for its role.
    #[error("{}: {what} has shape {got:?}, expected {expected}", path.display())]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// Expected shape, in words.
        expected: String,
        /// The shape found.
        got: Vec<usize>,
    },
    /// Images and labels disagree on the number of samples.
    #[error("{images} images but {labels} labels: the two must match one to one")]
    CountMismatch {
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A label is not a valid class index.
    #[error("label {label} at index {index} is not a class index (there are {classes} classes)")]
    LabelOutOfRange {
        /// Sample index.
        index: usize,
        /// The label.
        label: u8,
        /// Number of classes.
        classes: usize,
    },
    /// A file's SHA-256 is none of the accepted digests.
    #[error(
        "{} is corrupt: its SHA-256 is {got}, expected {}: the file is damaged or not the {dataset} \
         file it is named after (hint: delete it and run `cargo xtask download {dataset}`, or \
         replace it with the original file)",
        path.display(),
        expected.join(" or ")
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The dataset it belongs to.
        dataset: &'static str,
        /// Accepted digests (lowercase hex).
        expected: Vec<&'static str>,
        /// Digest found.
        got: String,
    },
    /// A dataset file is in none of the searched places and was not downloaded.
    #[error(
        "{dataset} file {file} not found; looked in: {}. {hint}",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound {
        /// The dataset.
        dataset: &'static str,
        /// The file name.
        file: &'static str,
        /// Directories searched, in order.
        searched: Vec<PathBuf>,
        /// How to get the file.
        hint: String,
    },
    /// Every mirror failed for a file.
    #[error(
        "could not download {file} into {}; tried: {}. {hint}",
        dir.display(),
        attempts.iter().map(|(url, why)| format!("{url} ({why})")).collect::<Vec<_>>().join("; ")
    )]
    DownloadFailed {
        /// The file name.
        file: String,
        /// Destination directory.
        dir: PathBuf,
        /// Each URL tried, with why it failed.
        attempts: Vec<(String, String)>,
        /// How to supply the file by hand.
        hint: String,
    },

    // === Arguments ===
    /// A function argument is out of its domain.
    #[error("{op}: invalid {arg}: {reason}")]
    InvalidArgument {
        /// The function.
        op: &'static str,
        /// The argument.
        arg: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl From<neurite_io::WriteError> for DataError {
    fn from(e: neurite_io::WriteError) -> Self {
        DataError::io(e.step.as_str(), e.path, e.source)
    }
}

impl DataError {
    /// Wraps an I/O error with what was being done and to which file.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Whether the error means a file is present but damaged (wrong digest, truncated, bad
    /// header, corrupt gzip, wrong shape), as opposed to missing or unreadable: callers should
    /// say "corrupt" and where, not "not available".
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            DataError::BadMagic { .. }
                | DataError::UnknownType { .. }
                | DataError::BadDims { .. }
                | DataError::TooLarge { .. }
                | DataError::Truncated { .. }
                | DataError::TrailingData { .. }
                | DataError::Gzip { .. }
                | DataError::WrongType { .. }
                | DataError::WrongShape { .. }
                | DataError::ChecksumMismatch { .. }
        )
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            DataError::Io { path, .. }
            | DataError::BadMagic { path, .. }
            | DataError::UnknownType { path, .. }
            | DataError::BadDims { path, .. }
            | DataError::TooLarge { path, .. }
            | DataError::Truncated { path, .. }
            | DataError::TrailingData { path, .. }
            | DataError::Gzip { path, .. }
            | DataError::WrongType { path, .. }
            | DataError::Unwritable { path, .. }
            | DataError::WrongShape { path, .. }
            | DataError::ChecksumMismatch { path, .. } => Some(path),
            DataError::DownloadFailed { dir, .. } => Some(dir),
            DataError::CountMismatch { .. }
            | DataError::LabelOutOfRange { .. }
            | DataError::NotFound { .. }
            | DataError::InvalidArgument { .. } => None,
        }
    }

    /// An invalid-argument error.
    pub(crate) fn arg(op: &'static str, arg: &'static str, reason: impl Into<String>) -> Self {
        DataError::InvalidArgument {
            op,
            arg,
            reason: reason.into(),
        }
    }
}
