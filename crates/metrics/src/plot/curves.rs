//! ROC curves (one per class and their macro average) and precision-recall curves.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::output::{DrawResult, Figure, render};
use super::style::{font, series_color, stroke, text};
use crate::{
    MetricError, Result, RocCurve, Score, auc, precision_recall_curves_ovr, roc_curves_ovr,
};

/// A named line in `[0, 1] x [0, 1]`.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    dashed: bool,
}

struct CurveFigure {
    legend: SeriesLabelPosition,
    title: &'static str,
    x_desc: &'static str,
    y_desc: &'static str,
    lines: Vec<Line>,
    diagonal: bool,
}

fn check_names<S: AsRef<str>>(plot: &'static str, names: &[S], columns: usize) -> Result<()> {
    if names.len() != columns {
        return Err(MetricError::LengthMismatch {
            metric: plot,
            what: "class_names",
            expected: columns,
            got: names.len(),
        });
    }
    Ok(())
}

/// The macro-average ROC curve: every class's TPR interpolated on the union of their FPR
/// points, then averaged (scikit-learn's plotting example does the same).
fn macro_average(curves: &[&RocCurve]) -> Vec<(f64, f64)> {
    let mut grid: Vec<f64> = curves.iter().flat_map(|c| c.fpr.iter().copied()).collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let mut points: Vec<(f64, f64)> = grid
        .iter()
        .map(|&x| {
            let mean = curves.iter().map(|c| tpr_at(c, x)).sum::<f64>() / curves.len() as f64;
            (x, mean)
        })
        .collect();
    // Every ROC curve starts at (0, 0); the vertical first segment adds no area.
    if points.first().is_some_and(|&(x, y)| x == 0.0 && y > 0.0) {
        points.insert(0, (0.0, 0.0));
    }
    points
}

/// TPR of `curve` at false positive rate `x`, linear between points; on a vertical segment the
/// top is taken, so the averaged curve keeps the classes' corners.
fn tpr_at(curve: &RocCurve, x: f64) -> f64 {
    let last_at_or_before = curve.fpr.iter().rposition(|&f| f <= x).unwrap_or(0);
    match (
        curve.fpr.get(last_at_or_before),
        curve.fpr.get(last_at_or_before + 1),
    ) {
        (Some(&x0), Some(&x1)) if x1 > x0 && x > x0 => {
            let (y0, y1) = (
                curve.tpr[last_at_or_before],
                curve.tpr[last_at_or_before + 1],
            );
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
        _ => curve.tpr.get(last_at_or_before).copied().unwrap_or(0.0),
    }
}

/// Draws the one-vs-rest ROC curve of every class with its AUC, the macro-average curve and the
/// chance diagonal, to an SVG or PNG file of `size` = (width, height) pixels.
///
/// A class absent from `y_true` has no ROC curve and is left out (its legend entry says so).
/// For a binary classifier pass two columns, `[1 - p, p]`.
///
/// ```no_run
/// use ndarray::array;
/// let scores = array![[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]];
/// neurite_metrics::plot::roc_curves(&[0, 1, 2, 1], scores.view(), &["a", "b", "c"], "roc.svg", (640, 480))
///     .unwrap();
/// ```
///
/// # Errors
/// Invalid scores or labels (as [`crate::roc_auc_ovr`]), `class_names` not one per column,
/// [`MetricError::Undefined`] if no class has a curve, a bad extension or size, no font, or an
/// unwritable file.
pub fn roc_curves<F: Score, S: AsRef<str>>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
    class_names: &[S],
    path: impl AsRef<Path>,
    size: (u32, u32),
) -> Result<()> {
    const PLOT: &str = "plot::roc_curves";
    check_names(PLOT, class_names, scores.ncols())?;
    let curves = roc_curves_ovr(y_true, scores)?;
    let defined: Vec<&RocCurve> = curves.iter().filter_map(|c| c.as_ref().ok()).collect();
    if defined.is_empty() {
        return Err(MetricError::Undefined {
            metric: PLOT,
            reason: "no class has both positive and negative samples in y_true".into(),
        });
    }
    let mut lines: Vec<Line> = curves
        .iter()
        .zip(class_names)
        .map(|(curve, name)| match curve {
            Ok(c) => Line {
                label: format!("{} (AUC = {:.3})", name.as_ref(), c.auc()),
                points: c.fpr.iter().copied().zip(c.tpr.iter().copied()).collect(),
                dashed: false,
            },
            Err(_) => Line {
                label: format!("{} (absent: no curve)", name.as_ref()),
                points: Vec::new(),
                dashed: false,
            },
        })
        .collect();
    let average = macro_average(&defined);
    let (xs, ys): (Vec<f64>, Vec<f64>) = average.iter().copied().unzip();
    let macro_auc = auc(&xs, &ys)?;
    lines.push(Line {
        label: format!("macro average (AUC = {macro_auc:.3})"),
        points: average,
        dashed: true,
    });
    let figure = CurveFigure {
        legend: SeriesLabelPosition::LowerRight,
        title: "ROC curves (one vs rest)",
        x_desc: "false positive rate",
        y_desc: "true positive rate",
        lines,
        diagonal: true,
    };
    render(&figure, path.as_ref(), size)
}

/// Draws the one-vs-rest precision-recall curve of every class with its average precision, to
/// an SVG or PNG file of `size` = (width, height) pixels.
///
/// # Errors
/// Invalid scores or labels (as [`crate::average_precision_ovr`]), `class_names` not one per
/// column, a bad extension or size, no font, or an unwritable file.
pub fn precision_recall_curves<F: Score, S: AsRef<str>>(
    y_true: &[usize],
    scores: ArrayView2<'_, F>,
    class_names: &[S],
    path: impl AsRef<Path>,
    size: (u32, u32),
) -> Result<()> {
    const PLOT: &str = "plot::precision_recall_curves";
    check_names(PLOT, class_names, scores.ncols())?;
    let curves = precision_recall_curves_ovr(y_true, scores)?;
    let lines = curves
        .iter()
        .zip(class_names)
        .map(|(c, name)| Line {
            label: format!("{} (AP = {:.3})", name.as_ref(), c.average_precision()),
            points: c
                .recall
                .iter()
                .copied()
                .zip(c.precision.iter().copied())
                .collect(),
            dashed: false,
        })
        .collect();
    let figure = CurveFigure {
        legend: SeriesLabelPosition::LowerLeft,
        title: "Precision-recall curves (one vs rest)",
        x_desc: "recall",
        y_desc: "precision",
        lines,
        diagonal: false,
    };
    render(&figure, path.as_ref(), size)
}

/// Splits a polyline into short dashes.
fn dashes(points: &[(f64, f64)], dash: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let length = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        let pieces = (length / dash).ceil().max(1.0) as usize;
        for k in (0..pieces).step_by(2) {
            let t0 = k as f64 / pieces as f64;
            let t1 = ((k + 1) as f64 / pieces as f64).min(1.0);
            out.push(vec![
                (x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0),
                (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1),
            ]);
        }
    }
    out
}

impl Figure for CurveFigure {
    const NAME: &'static str = "plot::curves";

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, font(20.0))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(text(13.0))
            .axis_desc_style(text(14.0))
            .draw()?;
        if self.diagonal {
            let gray = RGBColor(160, 160, 160);
            chart.draw_series(
                dashes(&[(0.0, 0.0), (1.0, 1.0)], 0.02)
                    .into_iter()
                    .map(|d| PathElement::new(d, stroke(gray, 1))),
            )?;
        }
        for (i, line) in self.lines.iter().enumerate() {
            let color = if line.dashed { BLACK } else { series_color(i) };
            let style = stroke(color, 2);
            let anno = if line.dashed {
                chart.draw_series(
                    dashes(&line.points, 0.015)
                        .into_iter()
                        .map(|d| PathElement::new(d, style)),
                )?
            } else {
                chart.draw_series(std::iter::once(PathElement::new(
                    line.points.clone(),
                    style,
                )))?
            };
            anno.label(&line.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        chart
            .configure_series_labels()
            .position(self.legend.clone())
            .label_font(text(12.0))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_average_keeps_corners_and_starts_at_origin() {
        let perfect = RocCurve {
            fpr: vec![0.0, 0.0, 1.0],
            tpr: vec![0.0, 1.0, 1.0],
            thresholds: vec![f64::INFINITY, 0.9, 0.1],
        };
        let chance = RocCurve {
            fpr: vec![0.0, 1.0],
            tpr: vec![0.0, 1.0],
            thresholds: vec![f64::INFINITY, 0.5],
        };
        let points = macro_average(&[&perfect, &chance]);
        assert_eq!(points, vec![(0.0, 0.0), (0.0, 0.5), (1.0, 1.0)]);
        let (x, y): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
        assert_eq!(auc(&x, &y).unwrap(), 0.75);
        assert_eq!(tpr_at(&chance, 0.25), 0.25);
    }
}
