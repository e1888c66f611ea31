//! A grid of misclassified images, each titled with its true and predicted class.

use std::path::Path;

use ndarray::ArrayView3;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::output::{DrawResult, Figure, render};
use super::style::{font, gray, text};
use crate::validate::labels_in_range;
use crate::{MetricError, Result};

const PLOT: &str = "plot::misclassified_images";

struct ImageGrid<'a> {
    images: ArrayView3<'a, f32>,
    picked: Vec<usize>,
    y_true: &'a [usize],
    y_pred: &'a [usize],
    names: Vec<&'a str>,
}

/// Draws up to `max_images` misclassified images (in dataset order) in a grid, each titled
/// "true / predicted", to an SVG or PNG file of `size` = (width, height) pixels.
///
/// `images` is `[N, H, W]` gray levels in `[0, 1]` (0 black); values outside are clamped and NaN
/// is drawn black. If nothing is misclassified the image says so.
///
/// ```no_run
/// use ndarray::Array3;
/// let images = Array3::<f32>::zeros((3, 28, 28));
/// neurite_metrics::plot::misclassified_images(
///     images.view(), &[0, 1, 2], &[0, 2, 1], &["zero", "one", "two"], 16, "wrong.png", (600, 400),
/// )
/// .unwrap();
/// ```
///
/// # Errors
/// Lengths that differ from `N`, no images, an empty image, a label `>= class_names.len()`,
/// `max_images == 0`, a bad extension or size, no font, or an unwritable file.
pub fn misclassified_images<S: AsRef<str>>(
    images: ArrayView3<'_, f32>,
    y_true: &[usize],
    y_pred: &[usize],
    class_names: &[S],
    max_images: usize,
    path: impl AsRef<Path>,
    size: (u32, u32),
) -> Result<()> {
    let (n, height, width) = images.dim();
    crate::validate::same_length(PLOT, "y_true", n, y_true.len())?;
    crate::validate::same_length(PLOT, "y_pred", n, y_pred.len())?;
    if height == 0 || width == 0 {
        return Err(MetricError::Shape {
            metric: PLOT,
            expected: "images of shape [N, H, W] with H, W >= 1".into(),
            got: images.shape().to_vec(),
            hint: "pass gray images; squeeze the channel axis of [N, 1, H, W]",
        });
    }
    if max_images == 0 {
        return Err(MetricError::InvalidArgument {
            metric: PLOT,
            name: "max_images",
            value: "0".into(),
            hint: "show at least one image".into(),
        });
    }
    labels_in_range(PLOT, "y_true", y_true, class_names.len())?;
    labels_in_range(PLOT, "y_pred", y_pred, class_names.len())?;
    let picked = (0..n)
        .filter(|&i| y_true[i] != y_pred[i])
        .take(max_images)
        .collect();
    let names = class_names.iter().map(AsRef::as_ref).collect();
    render(
        &ImageGrid {
            images,
            picked,
            y_true,
            y_pred,
            names,
        },
        path.as_ref(),
        size,
    )
}

impl Figure for ImageGrid<'_> {
    const NAME: &'static str = PLOT;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (width, height) = root.dim_in_pixel();
        if self.picked.is_empty() {
            let centre = Pos::new(HPos::Center, VPos::Center);
            return root.draw_text(
                "no misclassified images",
                &text(18.0).pos(centre),
                (width as i32 / 2, height as i32 / 2),
            );
        }
        let root = root
            .titled("Misclassified images (true / predicted)", font(18.0))?
            .margin(0, 6, 4, 4);
        let count = self.picked.len();
        let (_, image_h, image_w) = self.images.dim();
        let (area_w, area_h) = root.dim_in_pixel();
        // Choose the column count that makes the cells largest for this canvas.
        let columns = (1..=count)
            .max_by_key(|&cols| {
                let rows = count.div_ceil(cols);
                let cell = (f64::from(area_w) / cols as f64 / image_w as f64)
                    .min((f64::from(area_h) / rows as f64 - 20.0) / image_h as f64);
                (cell * 1000.0) as i64
            })
            .unwrap_or(1);
        let rows = count.div_ceil(columns);
        let cells = root.split_evenly((rows, columns));
        for (cell, &i) in cells.iter().zip(&self.picked) {
            let label = format!(
                "{} / {}",
                self.names[self.y_true[i]], self.names[self.y_pred[i]]
            );
            let (cell_w, _) = cell.dim_in_pixel();
            let label_size =
                (f64::from(cell_w) / label.chars().count().max(1) as f64 * 1.6).clamp(8.0, 14.0);
            let body = cell.titled(&label, text(label_size))?;
            let (body_w, body_h) = body.dim_in_pixel();
            let scale =
                (f64::from(body_w) / image_w as f64).min(f64::from(body_h) / image_h as f64) * 0.95;
            if scale <= 0.0 {
                continue;
            }
            let x_off = (f64::from(body_w) - scale * image_w as f64) / 2.0;
            let y_off = (f64::from(body_h) - scale * image_h as f64) / 2.0;
            let image = self.images.index_axis(ndarray::Axis(0), i);
            for ((r, c), &v) in image.indexed_iter() {
                let x0 = (x_off + c as f64 * scale) as i32;
                let y0 = (y_off + r as f64 * scale) as i32;
                let x1 = (x_off + (c + 1) as f64 * scale) as i32;
                let y1 = (y_off + (r + 1) as f64 * scale) as i32;
                body.draw(&Rectangle::new(
                    [(x0, y0), (x1.max(x0 + 1), y1.max(y0 + 1))],
                    gray(v).filled(),
                ))?;
            }
        }
        Ok(())
    }
}
