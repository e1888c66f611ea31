//! Finding and registering the TrueType font that plot text is drawn with.
//!
//! plotters is built with its pure-Rust `ab_glyph` text renderer, so building neurite needs no
//! system libraries; at run time it needs one `.ttf` file. The first plot looks for
//! `$NEURITE_FONT`, then for common system fonts (DejaVu Sans first; Debian package
//! `fonts-dejavu-core`), and registers it as the `sans-serif` family.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::{MetricError, Result};

/// The family name plots ask for.
pub(crate) const FAMILY: &str = "sans-serif";

/// Environment variable naming a `.ttf` file to use instead of the system search.
pub const FONT_ENV: &str = "NEURITE_FONT";

/// Fonts tried in order when `NEURITE_FONT` is not set.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// What went wrong the first time, kept so every later plot reports the same error.
#[derive(Debug, Clone)]
enum FontFailure {
    NotFound(Vec<PathBuf>),
    Bad(PathBuf, String),
}

static REGISTERED: OnceLock<std::result::Result<PathBuf, FontFailure>> = OnceLock::new();

/// Registers the plot font once per process; returns the file used.
///
/// # Errors
/// [`MetricError::FontNotFound`] when no candidate exists, [`MetricError::BadFont`] when the file
/// cannot be read or parsed.
pub fn ensure_font() -> Result<PathBuf> {
    match REGISTERED.get_or_init(register) {
        Ok(path) => Ok(path.clone()),
        Err(FontFailure::NotFound(searched)) => Err(MetricError::FontNotFound {
            searched: searched.clone(),
        }),
        Err(FontFailure::Bad(path, reason)) => Err(MetricError::BadFont {
            path: path.clone(),
            reason: reason.clone(),
        }),
    }
}

/// The font file to use: `override_path` (from `NEURITE_FONT`) if given, else the first
/// existing candidate.
fn locate(override_path: Option<OsString>) -> std::result::Result<PathBuf, FontFailure> {
    let searched: Vec<PathBuf> = match override_path {
        Some(path) => vec![PathBuf::from(path)],
        None => CANDIDATES.iter().map(PathBuf::from).collect(),
    };
    match searched.iter().find(|p| p.is_file()) {
        Some(path) => Ok(path.clone()),
        None => Err(FontFailure::NotFound(searched)),
    }
}

fn register() -> std::result::Result<PathBuf, FontFailure> {
    let path = locate(std::env::var_os(FONT_ENV))?;
    let bytes = std::fs::read(&path).map_err(|e| FontFailure::Bad(path.clone(), e.to_string()))?;
    // plotters keeps registered fonts for the whole process and needs `'static` bytes; this runs
    // at most once, so leaking the one font file is bounded.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FAMILY, FontStyle::Normal, bytes)
        .map_err(|_| FontFailure::Bad(path.clone(), "not a TrueType/OpenType font".into()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_override_is_reported_with_its_path() {
        match locate(Some("/nonexistent/font.ttf".into())) {
            Err(FontFailure::NotFound(searched)) => {
                assert_eq!(searched, vec![PathBuf::from("/nonexistent/font.ttf")]);
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    #[test]
    fn the_error_names_the_package_to_install() {
        let message = MetricError::FontNotFound {
            searched: vec![PathBuf::from("/x.ttf")],
        }
        .to_string();
        assert!(
            message.contains("fonts-dejavu-core") && message.contains("NEURITE_FONT"),
            "{message}"
        );
    }
}
