//! Colors and text styles shared by the plots.

use plotters::style::{Color, FontDesc, IntoFont, RGBColor, TextStyle};

use super::font::FAMILY;

/// Ten distinguishable line colors (the "tab10" palette), reused in a cycle.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The `i`-th series color.
pub(crate) fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The plot font at `size` pixels.
pub(crate) fn font(size: f64) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

/// Black text at `size` pixels.
pub(crate) fn text(size: f64) -> TextStyle<'static> {
    font(size).color(&plotters::style::BLACK)
}

/// White-to-blue color for `t` in `[0, 1]` (out-of-range and NaN values are clamped).
pub(crate) fn blues(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let mix = |light: f64, dark: f64| (light + (dark - light) * t).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

/// Gray level for a pixel intensity in `[0, 1]` (0 is black).
pub(crate) fn gray(v: f32) -> RGBColor {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let level = (v * 255.0).round() as u8;
    RGBColor(level, level, level)
}

/// Text drawn on a cell should be white on dark backgrounds.
pub(crate) fn ink_on(background: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = background;
    let luminance = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luminance < 128.0 {
        plotters::style::WHITE
    } else {
        plotters::style::BLACK
    }
}

/// A series color as a stroke of `width` pixels.
pub(crate) fn stroke(color: RGBColor, width: u32) -> plotters::style::ShapeStyle {
    color.stroke_width(width)
}
