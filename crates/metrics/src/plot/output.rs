//! Rendering a figure to an SVG or PNG file, atomically (neurite-io: temp file in the same
//! directory, fsync, rename), so a failed plot never leaves a half-written image behind.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{
    BitMapBackend, DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea, SVGBackend,
};

use crate::{MetricError, Result};

/// Smallest accepted width or height in pixels; below this, labels cannot fit.
pub const MIN_SIDE: u32 = 64;
/// Largest accepted width or height in pixels.
pub const MAX_SIDE: u32 = 16_384;

/// Result of drawing on a plotters backend.
pub(crate) type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// The plot's name for error messages.
    const NAME: &'static str;

    /// Draws on `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Image format, chosen from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (`.svg`).
    Svg,
    /// Portable network graphics (`.png`).
    Png,
}

impl Format {
    /// The format for `path`'s extension (`svg` or `png`, any case).
    ///
    /// # Errors
    /// Any other extension.
    pub fn from_path(plot: &'static str, path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            _ => Err(MetricError::InvalidArgument {
                metric: plot,
                name: "path",
                value: path.display().to_string(),
                hint: "the file name must end in .svg or .png".into(),
            }),
        }
    }
}

/// Draws `figure` into `path` (SVG or PNG by extension) at `size` pixels.
pub(crate) fn render<F: Figure>(figure: &F, path: &Path, size: (u32, u32)) -> Result<()> {
    let format = Format::from_path(F::NAME, path)?;
    let (width, height) = size;
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(MetricError::InvalidArgument {
            metric: F::NAME,
            name: "size",
            value: format!("{width}x{height}"),
            hint: format!("width and height must be between {MIN_SIDE} and {MAX_SIDE} pixels"),
        });
    }
    super::font::ensure_font()?;
    let io = |e: neurite_io::WriteError| MetricError::Io {
        path: e.path,
        source: e.source,
    };
    let plot_error = |message: String| MetricError::Plot {
        plot: F::NAME,
        path: path.to_path_buf(),
        message,
    };
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                draw_all(figure, &root).map_err(plot_error)?;
            }
            neurite_io::write_atomic(path, svg.as_bytes()).map_err(io)?;
        }
        Format::Png => {
            // The image encoder writes the file itself, by path, and picks the format from the
            // extension, which the temporary file keeps.
            let temp = neurite_io::AtomicFile::create(path).map_err(io)?;
            {
                let root = BitMapBackend::new(temp.temp_path(), size).into_drawing_area();
                draw_all(figure, &root).map_err(plot_error)?;
            }
            temp.commit().map_err(io)?;
        }
    }
    Ok(())
}

fn draw_all<F: Figure, DB: DrawingBackend>(
    figure: &F,
    root: &DrawingArea<DB, Shift>,
) -> std::result::Result<(), String> {
    let run = || -> DrawResult<DB> {
        root.fill(&plotters::style::WHITE)?;
        figure.draw(root)?;
        root.present()
    };
    run().map_err(|e| e.to_string())
}
