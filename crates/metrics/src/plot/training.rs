//! Training curves: one panel per quantity (loss, accuracy, ...), train and validation per epoch.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::output::{DrawResult, Figure, render};
use super::style::{font, series_color, stroke, text};
use crate::{MetricError, Result};

/// One quantity recorded once per epoch, on the training data and optionally on validation data.
///
/// Built from neurite-train's `History` one quantity at a time:
/// `Curves::new("loss", history.series("loss")).with_validation(history.series("val_loss"))`
/// (neurite-metrics does not depend on neurite-train, so there is no conversion between them).
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// The quantity's name, e.g. `"loss"` or `"accuracy"`; the panel's title.
    pub name: String,
    /// Value on the training data after each epoch (epoch 1 first).
    pub train: Vec<f64>,
    /// Value on the validation data after each epoch, if there was validation data; same length
    /// as `train`.
    pub validation: Option<Vec<f64>>,
}

impl Curves {
    /// A curve with training values only.
    pub fn new(name: impl Into<String>, train: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            train,
            validation: None,
        }
    }

    /// Adds validation values.
    pub fn with_validation(mut self, validation: Vec<f64>) -> Self {
        self.validation = Some(validation);
        self
    }
}

const PLOT: &str = "plot::training_curves";

struct TrainingFigure<'a> {
    curves: &'a [Curves],
}

/// Draws training curves side by side, one panel per [`Curves`], to an SVG or PNG file (by the
/// extension of `path`) of `size` = (width, height) pixels.
///
/// Non-finite values (a diverged loss) are left out of the lines rather than failing the plot.
///
/// ```no_run
/// use neurite_metrics::plot::{Curves, training_curves};
/// let loss = Curves::new("loss", vec![0.9, 0.5, 0.4]).with_validation(vec![1.0, 0.6, 0.55]);
/// training_curves(&[loss], "loss.svg", (800, 400)).unwrap();
/// ```
///
/// # Errors
/// No curves, an empty curve, validation of another length than train, a bad extension or
/// size, no font ([`MetricError::FontNotFound`]), or a file that cannot be written.
pub fn training_curves(curves: &[Curves], path: impl AsRef<Path>, size: (u32, u32)) -> Result<()> {
    if curves.is_empty() {
        return Err(MetricError::Empty { metric: PLOT });
    }
    for c in curves {
        if c.train.is_empty() {
            return Err(MetricError::InvalidArgument {
                metric: PLOT,
                name: "curves",
                value: format!("{:?} with no epochs", c.name),
                hint: "record at least one epoch before plotting".into(),
            });
        }
        if let Some(v) = &c.validation
            && v.len() != c.train.len()
        {
            return Err(MetricError::LengthMismatch {
                metric: PLOT,
                what: "validation",
                expected: c.train.len(),
                got: v.len(),
            });
        }
    }
    render(&TrainingFigure { curves }, path.as_ref(), size)
}

/// `(epoch, value)` points of the finite values; epochs count from 1.
fn points(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| ((i + 1) as f64, v))
        .collect()
}

/// A y range covering the finite values with a margin, never empty.
fn y_range(curves: &Curves) -> (f64, f64) {
    let values = curves
        .train
        .iter()
        .chain(curves.validation.iter().flatten());
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        lo.abs().max(1.0) * 0.05
    };
    (lo - pad, hi + pad)
}

impl Figure for TrainingFigure<'_> {
    const NAME: &'static str = PLOT;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let panels = root.split_evenly((1, self.curves.len()));
        for (panel, curves) in panels.iter().zip(self.curves) {
            let epochs = curves.train.len();
            let (y0, y1) = y_range(curves);
            let x1 = if epochs > 1 { epochs as f64 } else { 2.0 };
            let mut chart = ChartBuilder::on(panel)
                .caption(&curves.name, font(20.0))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(1.0..x1, y0..y1)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_labels(epochs.clamp(2, 10))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .label_style(text(13.0))
                .axis_desc_style(text(14.0))
                .draw()?;
            let series = [
                Some(("train", &curves.train)),
                curves.validation.as_ref().map(|v| ("validation", v)),
            ];
            for (i, (label, values)) in series.into_iter().flatten().enumerate() {
                let color = series_color(i);
                let pts = points(values);
                chart
                    .draw_series(LineSeries::new(pts.clone(), stroke(color, 2)))?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], stroke(color, 2))
                    });
                chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
            }
            chart
                .configure_series_labels()
                .label_font(text(13.0))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        Ok(())
    }
}
