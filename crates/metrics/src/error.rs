//! Errors for everything a caller can get wrong when computing or plotting a metric.

use std::path::PathBuf;

use thiserror::Error;

/// An input given to a neurite-metrics function was not acceptable, or a plot could not be written.
///
/// Every variant names the metric (or plot) that was called, so a message read far from the call
/// still says where it came from, and ends with a hint on how to fix the call.
#[derive(Debug, Error)]
pub enum MetricError {
    /// Two inputs that must have one entry per sample have different lengths.
    #[error(
        "{metric}: {what} has {got} entries but {expected} were expected (one per sample); \
         hint: pass targets and predictions for the same samples"
    )]
    LengthMismatch {
        /// The metric that was called.
        metric: &'static str,
        /// Which input has the wrong length.
        what: &'static str,
        /// The number of entries expected.
        expected: usize,
        /// The number of entries given.
        got: usize,
    },
    /// There are no samples at all, so the metric has no value.
    #[error("{metric}: no samples were given; hint: pass at least one sample")]
    Empty {
        /// The metric that was called.
        metric: &'static str,
    },
    /// A class label is not below the number of classes.
    #[error(
        "{metric}: {what}[{index}] = {label} is out of range for {n_classes} classes; \
         hint: labels are class indices 0..{n_classes}"
    )]
    LabelOutOfRange {
        /// The metric that was called.
        metric: &'static str,
        /// Which input holds the label.
        what: &'static str,
        /// The sample index.
        index: usize,
        /// The label found.
        label: usize,
        /// The number of classes.
        n_classes: usize,
    },
    /// A score is NaN or infinite where a ranking needs finite numbers.
    #[error(
        "{metric}: score at row {row}, column {column} is {value}; \
         hint: scores must be finite (check the model output for NaN)"
    )]
    NonFiniteScore {
        /// The metric that was called.
        metric: &'static str,
        /// The sample index.
        row: usize,
        /// The class column (0 for one-dimensional scores).
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// An array has the wrong shape.
    #[error("{metric}: expected {expected}, got shape {got:?}; hint: {hint}")]
    Shape {
        /// The metric that was called.
        metric: &'static str,
        /// The shape that was expected, in words.
        expected: String,
        /// The shape that was given.
        got: Vec<usize>,
        /// How to fix the call.
        hint: &'static str,
    },
    /// An argument is outside its valid range.
    #[error("{metric}: invalid {name} = {value}; hint: {hint}")]
    InvalidArgument {
        /// The metric that was called.
        metric: &'static str,
        /// The argument's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What the argument must be.
        hint: String,
    },
    /// The metric is mathematically undefined for these inputs (e.g. ROC AUC with one class).
    ///
    /// scikit-learn returns NaN with a warning in these cases; neurite returns this error instead.
    #[error("{metric} is undefined: {reason}")]
    Undefined {
        /// The metric that was called.
        metric: &'static str,
        /// Why it is undefined.
        reason: String,
    },
    /// `NEURITE_FONT` names a font file that does not exist.
    #[error(
        "no font file at {searched:?} (named by NEURITE_FONT); hint: point NEURITE_FONT to a .ttf \
         file, set it to `embedded` for the bundled DejaVu Sans, or unset it to use a system font \
         (Debian: `apt-get install fonts-dejavu-core`) or else the bundled one"
    )]
    FontNotFound {
        /// The paths that were tried.
        searched: Vec<PathBuf>,
    },
    /// A font file exists but could not be read or parsed.
    #[error("font {path:?} could not be used: {reason}; hint: point NEURITE_FONT to a .ttf file")]
    BadFont {
        /// The font file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Drawing a plot failed.
    #[error("{plot}: drawing {path:?} failed: {message}")]
    Plot {
        /// The plot that was drawn.
        plot: &'static str,
        /// The output file.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path:?}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Result of a neurite-metrics operation.
pub type Result<T> = std::result::Result<T, MetricError>;
