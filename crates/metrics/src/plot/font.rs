//! Choosing and registering the TrueType font that plot text is drawn with.
//!
//! plotters is built with its pure-Rust `ab_glyph` text renderer, so building neurite needs no
//! system libraries, and this crate embeds DejaVu Sans (`fonts/DejaVuSans.ttf`, Bitstream Vera
//! licence in `fonts/LICENSE-DejaVu.txt`), so drawing needs no system font either. The first plot
//! picks, in order: `$NEURITE_FONT` (a `.ttf` path, or `embedded`), a common system font (DejaVu
//! Sans first, as installed by Debian's `fonts-dejavu-core`), the embedded copy; and registers it
//! as the `sans-serif` family.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::{MetricError, Result};

/// The family name plots ask for.
pub(crate) const FAMILY: &str = "sans-serif";

/// Environment variable naming a `.ttf` file, or `embedded`, to use instead of the system search.
pub const FONT_ENV: &str = "NEURITE_FONT";

/// The [`FONT_ENV`] value that selects the embedded font even when a system font exists
/// (identical plots on every machine).
pub const EMBEDDED_FONT_NAME: &str = "embedded";

/// DejaVu Sans 2.37, unmodified (about 740 KiB): the font of last resort.
static EMBEDDED: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// System fonts tried in order when `NEURITE_FONT` is not set.
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

/// Where the plot font came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FontSource {
    /// A font file on this machine (from `NEURITE_FONT` or the system search).
    File(PathBuf),
    /// The DejaVu Sans copy embedded in this crate.
    Embedded,
}

impl std::fmt::Display for FontSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FontSource::File(path) => write!(f, "{}", path.display()),
            FontSource::Embedded => f.write_str("DejaVu Sans (embedded in neurite-metrics)"),
        }
    }
}

/// What went wrong the first time, kept so every later plot reports the same error.
#[derive(Debug, Clone)]
enum FontFailure {
    NotFound(PathBuf),
    Bad(PathBuf, String),
}

static REGISTERED: OnceLock<std::result::Result<FontSource, FontFailure>> = OnceLock::new();

/// Registers the plot font once per process; returns where it came from.
///
/// # Errors
/// Only when `NEURITE_FONT` names a font that cannot be used: [`MetricError::FontNotFound`] when
/// the file does not exist, [`MetricError::BadFont`] when it cannot be read or parsed. Without
/// `NEURITE_FONT` this always succeeds.
pub fn ensure_font() -> Result<FontSource> {
    match REGISTERED.get_or_init(|| register(choose(std::env::var_os(FONT_ENV), CANDIDATES))) {
        Ok(source) => Ok(source.clone()),
        Err(FontFailure::NotFound(path)) => Err(MetricError::FontNotFound {
            searched: vec![path.clone()],
        }),
        Err(FontFailure::Bad(path, reason)) => Err(MetricError::BadFont {
            path: path.clone(),
            reason: reason.clone(),
        }),
    }
}

/// The first system font that exists, if any (what [`ensure_font`] uses without `NEURITE_FONT`).
pub fn system_font() -> Option<PathBuf> {
    first_existing(CANDIDATES)
}

fn first_existing(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// The font to use: `override_value` (from `NEURITE_FONT`) if given, else the first existing
/// candidate, else the embedded font. A named file that does not exist is an error rather than a
/// silent fallback: whoever set the variable wants that font.
fn choose(
    override_value: Option<OsString>,
    candidates: &[&str],
) -> std::result::Result<FontSource, FontFailure> {
    match override_value.filter(|v| !v.is_empty()) {
        Some(v) if v == EMBEDDED_FONT_NAME => Ok(FontSource::Embedded),
        Some(v) => {
            let path = PathBuf::from(v);
            if path.is_file() {
                Ok(FontSource::File(path))
            } else {
                Err(FontFailure::NotFound(path))
            }
        }
        None => Ok(first_existing(candidates).map_or(FontSource::Embedded, FontSource::File)),
    }
}

fn register(
    source: std::result::Result<FontSource, FontFailure>,
) -> std::result::Result<FontSource, FontFailure> {
    let source = source?;
    let bytes: &'static [u8] = match &source {
        FontSource::Embedded => EMBEDDED,
        FontSource::File(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| FontFailure::Bad(path.clone(), e.to_string()))?;
            // plotters keeps registered fonts for the whole process and needs `'static` bytes;
            // this runs at most once, so leaking the one font file is bounded.
            Box::leak(bytes.into_boxed_slice())
        }
    };
    register_font(FAMILY, FontStyle::Normal, bytes).map_err(|_| {
        let path = match &source {
            FontSource::File(path) => path.clone(),
            FontSource::Embedded => Path::new("fonts/DejaVuSans.ttf").to_path_buf(),
        };
        FontFailure::Bad(path, "not a TrueType/OpenType font".into())
    })?;
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_override_is_reported_with_its_path() {
        match choose(Some("/nonexistent/font.ttf".into()), CANDIDATES) {
            Err(FontFailure::NotFound(path)) => {
                assert_eq!(path, PathBuf::from("/nonexistent/font.ttf"));
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    #[test]
    fn no_system_font_means_the_embedded_one() {
        let none = ["/nonexistent/a.ttf", "/nonexistent/b.ttf"];
        assert_eq!(choose(None, &none).unwrap(), FontSource::Embedded);
        assert_eq!(
            choose(Some("".into()), &none).unwrap(),
            FontSource::Embedded
        );
        assert_eq!(
            choose(Some(EMBEDDED_FONT_NAME.into()), CANDIDATES).unwrap(),
            FontSource::Embedded
        );
    }

    #[test]
    fn a_system_font_is_preferred_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let font = dir.path().join("f.ttf");
        std::fs::write(&font, EMBEDDED).unwrap();
        let font_str = font.to_str().unwrap();
        assert_eq!(
            choose(None, &["/nonexistent/a.ttf", font_str]).unwrap(),
            FontSource::File(font.clone())
        );
    }

    #[test]
    fn the_embedded_font_is_a_truetype_file() {
        // TrueType files start with the sfnt version 0x00010000; the table count is non-zero.
        assert_eq!(&EMBEDDED[..4], [0, 1, 0, 0]);
        assert!(u16::from_be_bytes([EMBEDDED[4], EMBEDDED[5]]) > 10);
        assert!(EMBEDDED.len() > 500_000);
    }

    #[test]
    fn the_error_names_the_variable_and_the_package() {
        let message = MetricError::FontNotFound {
            searched: vec![PathBuf::from("/x.ttf")],
        }
        .to_string();
        assert!(
            message.contains("fonts-dejavu-core")
                && message.contains("NEURITE_FONT")
                && message.contains("embedded"),
            "{message}"
        );
    }
}
