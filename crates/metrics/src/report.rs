//! The text classification report: per-class precision, recall, F1 and support, then accuracy
//! and the macro and weighted averages, laid out exactly as scikit-learn prints it.

use std::fmt::Write as _;

use crate::Result;
use crate::prf::{Average, ClassScores};
use crate::validate::class_count;

/// The heading of the widest summary row; the name column is at least this wide.
const LONGEST_HEADING: &str = "weighted avg";

/// Names `"0"`, `"1"`, ... for `n_classes` classes, as scikit-learn uses without `target_names`.
pub fn class_index_names(n_classes: usize) -> Vec<String> {
    (0..n_classes).map(|c| c.to_string()).collect()
}

/// The classification report as text, with one row per class of `class_names`.
///
/// Identical (character for character) to scikit-learn's `classification_report(y_true, y_pred,
/// labels=range(len(class_names)), target_names=class_names, digits=digits)`; `digits = 2` is
/// scikit-learn's default. Zero divisions count as 0 (see [`ClassScores`]). One deliberate
/// difference: when no prediction at all is correct, scikit-learn's counts become floats and it
/// prints supports as `6.0`; neurite always prints whole numbers (`6`).
///
/// ```
/// let text = neurite_metrics::classification_report(&[0, 1, 1], &[0, 1, 0], &["cat", "dog"], 2)
///     .unwrap();
/// assert!(text.contains("         cat       0.50      1.00      0.67         1\n"));
/// assert!(text.contains("    accuracy                           0.67         3\n"));
/// ```
///
/// # Errors
/// Length mismatch, no samples, no class names, or a label `>= class_names.len()`.
pub fn classification_report<S: AsRef<str>>(
    y_true: &[usize],
    y_pred: &[usize],
    class_names: &[S],
    digits: usize,
) -> Result<String> {
    class_count("classification_report", class_names.len(), 1)?;
    let scores = ClassScores::new(y_true, y_pred, class_names.len())?;
    Ok(format_report(&scores, class_names, digits))
}

/// Lays out already computed scores as the scikit-learn report text.
pub fn format_report<S: AsRef<str>>(
    scores: &ClassScores,
    class_names: &[S],
    digits: usize,
) -> String {
    let name_width = class_names
        .iter()
        .map(|n| n.as_ref().chars().count())
        .max()
        .unwrap_or(0);
    let width = name_width.max(LONGEST_HEADING.len()).max(digits);
    let mut out = String::new();
    // `write!` into a String cannot fail.
    let _ = write!(out, "{:>width$} ", "");
    for header in ["precision", "recall", "f1-score", "support"] {
        let _ = write!(out, " {header:>9}");
    }
    out.push_str("\n\n");
    let row = |out: &mut String, name: &str, p: f64, r: f64, f: f64, support: u64| {
        let _ = writeln!(
            out,
            "{name:>width$}  {p:>9.digits$} {r:>9.digits$} {f:>9.digits$} {support:>9}"
        );
    };
    for (c, name) in class_names.iter().enumerate() {
        let s = scores.class(c).unwrap_or(crate::Scores {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        });
        let support = scores.support.get(c).copied().unwrap_or(0);
        row(
            &mut out,
            name.as_ref(),
            s.precision,
            s.recall,
            s.f1,
            support,
        );
    }
    out.push('\n');
    let total: u64 = scores.support.iter().sum();
    // With every label listed, micro F1 equals accuracy, so scikit-learn prints it as "accuracy"
    // with the precision and recall cells left blank.
    let accuracy = scores.average(Average::Micro).f1;
    let _ = writeln!(
        out,
        "{:>width$}  {:>9} {:>9} {accuracy:>9.digits$} {total:>9}",
        "accuracy", "", ""
    );
    for (heading, average) in [
        ("macro avg", Average::Macro),
        ("weighted avg", Average::Weighted),
    ] {
        let s = scores.average(average);
        row(&mut out, heading, s.precision, s.recall, s.f1, total);
    }
    out
}
