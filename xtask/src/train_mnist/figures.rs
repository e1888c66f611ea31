//! What a run shows of its results: the figures of the report, the confusion matrix as text
//! and the averaged scores.

use std::path::Path;

use ndarray::Axis;
use neurite::metrics::{Average, ClassScores, ConfusionMatrix, plot};
use neurite::tensor::Tensor;
use neurite::train::History;
use serde_json::json;

use super::report;

pub(super) fn averages(scores: &ClassScores, average: Average) -> serde_json::Value {
    let s = scores.average(average);
    json!({"precision": s.precision, "recall": s.recall, "f1": s.f1})
}

/// The confusion matrix as an aligned text table.
pub(super) fn format_confusion(cm: &ConfusionMatrix, names: &[&str]) -> String {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(5);
    let mut text = format!("{:>width$} ", "");
    for c in 0..names.len() {
        text.push_str(&format!("{c:>6}"));
    }
    text.push('\n');
    for (r, row) in cm.counts().outer_iter().enumerate() {
        text.push_str(&format!("{:>width$} ", names[r]));
        for v in row {
            text.push_str(&format!("{v:>6}"));
        }
        text.push('\n');
    }
    text
}

#[allow(clippy::too_many_arguments)]
pub(super) fn plots(
    out: &Path,
    validation: bool,
    history: &History,
    cm: &ConfusionMatrix,
    names: &[&str],
    labels: &[usize],
    predicted: &[usize],
    probabilities: &ndarray::Array2<f32>,
    x_test: &Tensor<f32>,
) -> anyhow::Result<Vec<report::Figure>> {
    let curve = |name: &str| {
        let train = plot::Curves::new(name, history.series(name));
        if validation {
            train.with_validation(history.series(&format!("val_{name}")))
        } else {
            train
        }
    };
    let curves = [curve("loss"), curve("accuracy")];
    let path = out.join("training_curves.svg");
    plot::training_curves(&curves, &path, (900, 420))?;
    let caption = if validation {
        "Training curves (train and validation)"
    } else {
        "Training curves (train only: no validation, --validation-split 0)"
    };
    let mut figures = vec![report::Figure {
        caption: caption.into(),
        path,
    }];
    let path = out.join("confusion_matrix.svg");
    plot::confusion_matrix(cm, names, &path, (720, 680))?;
    figures.push(report::Figure {
        caption: "Confusion matrix (test set)".into(),
        path,
    });
    let path = out.join("roc_curves.svg");
    plot::roc_curves(labels, probabilities.view(), names, &path, (720, 560))?;
    figures.push(report::Figure {
        caption: "ROC curves, one class against the rest (test set)".into(),
        path,
    });
    let path = out.join("precision_recall_curves.svg");
    plot::precision_recall_curves(labels, probabilities.view(), names, &path, (720, 560))?;
    figures.push(report::Figure {
        caption: "Precision-recall curves (test set)".into(),
        path,
    });
    // Images [N, 1, 28, 28] -> [N, 28, 28] for the grid of mistakes.
    let images = x_test
        .view()
        .index_axis_move(Axis(1), 0)
        .into_dimensionality::<ndarray::Ix3>()?;
    let path = out.join("misclassified.png");
    if labels.iter().zip(predicted).any(|(t, p)| t != p) {
        plot::misclassified_images(images, labels, predicted, names, 36, &path, (900, 900))?;
        figures.push(report::Figure {
            caption: "Misclassified test images (true / predicted)".into(),
            path,
        });
    }
    Ok(figures)
}
