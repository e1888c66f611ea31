//! Confusion-matrix heat map: counts in the cells, class names on both axes.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::output::{DrawResult, Figure, render};
use super::style::{blues, font, ink_on, text};
use crate::{ConfusionMatrix, MetricError, Result};

const PLOT: &str = "plot::confusion_matrix";

struct ConfusionFigure<'a> {
    cm: &'a ConfusionMatrix,
    names: Vec<&'a str>,
}

/// Draws `cm` as a heat map (true class down, predicted class across, darker = more samples)
/// with the count in every cell, to an SVG or PNG file of `size` = (width, height) pixels.
///
/// ```no_run
/// use neurite_metrics::{ConfusionMatrix, plot};
/// let cm = ConfusionMatrix::new(&[0, 1, 1, 2], &[0, 1, 2, 2], 3).unwrap();
/// plot::confusion_matrix(&cm, &["cat", "dog", "bird"], "cm.png", (600, 600)).unwrap();
/// ```
///
/// # Errors
/// `class_names` not one per class, a bad extension or size, no font, or an unwritable file.
pub fn confusion_matrix<S: AsRef<str>>(
    cm: &ConfusionMatrix,
    class_names: &[S],
    path: impl AsRef<Path>,
    size: (u32, u32),
) -> Result<()> {
    if class_names.len() != cm.n_classes() {
        return Err(MetricError::LengthMismatch {
            metric: PLOT,
            what: "class_names",
            expected: cm.n_classes(),
            got: class_names.len(),
        });
    }
    let names = class_names.iter().map(AsRef::as_ref).collect();
    render(&ConfusionFigure { cm, names }, path.as_ref(), size)
}

/// The largest font size up to `max` at which every one of `labels` fits in `width` pixels.
fn fitting_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[&str],
    width: f64,
    max: f64,
) -> std::result::Result<f64, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut size = max;
    while size > 7.0 {
        let mut widest = 0;
        for label in labels {
            widest = widest.max(area.estimate_text_size(label, &text(size))?.0);
        }
        if f64::from(widest) <= width {
            break;
        }
        size -= 1.0;
    }
    Ok(size)
}

impl Figure for ConfusionFigure<'_> {
    const NAME: &'static str = PLOT;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (width, height) = root.dim_in_pixel();
        let (width, height) = (f64::from(width), f64::from(height));
        let n = self.cm.n_classes();
        let centered = Pos::new(HPos::Center, VPos::Center);
        let title_h = 40.0;
        root.draw_text(
            "Confusion matrix",
            &text(20.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ((width / 2.0) as i32, 8),
        )?;

        // Row labels get at most a third of the width; column labels shrink to fit their cell.
        let row_font = fitting_size(root, &self.names, width / 3.0 - 16.0, 14.0)?;
        let mut label_w = 0;
        for name in &self.names {
            label_w = label_w.max(root.estimate_text_size(name, &text(row_font))?.0);
        }
        let left = f64::from(label_w) + 20.0;
        let bottom = 64.0;
        let right = 16.0;
        let cell_w = ((width - left - right) / n as f64).max(1.0);
        let cell_h = ((height - title_h - bottom) / n as f64).max(1.0);
        let col_font = fitting_size(root, &self.names, cell_w - 4.0, 14.0)?;

        let counts = self.cm.counts();
        let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
        let count_font = (cell_h.min(cell_w) * 0.35).clamp(7.0, 16.0);
        for ((t, p), &count) in counts.indexed_iter() {
            let x0 = left + p as f64 * cell_w;
            let y0 = title_h + t as f64 * cell_h;
            let fill = blues(count as f64 / max);
            root.draw(&Rectangle::new(
                [
                    (x0 as i32, y0 as i32),
                    ((x0 + cell_w) as i32, (y0 + cell_h) as i32),
                ],
                fill.filled(),
            ))?;
            let ink = ink_on(fill);
            let centre = ((x0 + cell_w / 2.0) as i32, (y0 + cell_h / 2.0) as i32);
            root.draw_text(
                &count.to_string(),
                &font(count_font).color(&ink).pos(centered),
                centre,
            )?;
        }
        root.draw(&Rectangle::new(
            [
                (left as i32, title_h as i32),
                (
                    (left + cell_w * n as f64) as i32,
                    (title_h + cell_h * n as f64) as i32,
                ),
            ],
            BLACK.stroke_width(1),
        ))?;
        for (i, name) in self.names.iter().enumerate() {
            let y = (title_h + (i as f64 + 0.5) * cell_h) as i32;
            root.draw_text(
                name,
                &text(row_font).pos(Pos::new(HPos::Right, VPos::Center)),
                ((left - 8.0) as i32, y),
            )?;
            let x = (left + (i as f64 + 0.5) * cell_w) as i32;
            let y_text = (title_h + n as f64 * cell_h + 6.0) as i32;
            root.draw_text(
                name,
                &text(col_font).pos(Pos::new(HPos::Center, VPos::Top)),
                (x, y_text),
            )?;
        }
        let grid_mid = (left + n as f64 * cell_w / 2.0) as i32;
        root.draw_text(
            "predicted label",
            &text(14.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
            (grid_mid, (height - 6.0) as i32),
        )?;
        root.draw_text(
            "true label",
            &text(14.0).pos(Pos::new(HPos::Left, VPos::Bottom)),
            (6, (title_h - 4.0) as i32),
        )?;
        Ok(())
    }
}
