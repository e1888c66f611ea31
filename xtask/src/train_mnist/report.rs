//! `report.html`: one self-contained page with everything a training run wrote.
//!
//! SVG plots are inlined and PNG images embedded as data URIs, so the page opens from disk with
//! no network and no neighbouring files.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

/// One figure on the page.
pub struct Figure {
    /// Caption under the figure.
    pub caption: String,
    /// The image file (`.svg` is inlined, anything else is embedded as a PNG data URI).
    pub path: std::path::PathBuf,
}

/// What the page shows.
pub struct Report<'a> {
    /// Page title.
    pub title: &'a str,
    /// What a reader must know first (bundled-sample fallback, an interrupted run), shown in a
    /// box above everything else.
    pub notices: &'a [String],
    /// Key/value lines describing the run (model, dataset, epochs, seed, threads, ...).
    pub settings: &'a [(String, String)],
    /// The model summary table as text.
    pub summary: &'a str,
    /// Per-epoch rows: (epoch, loss, accuracy, val_loss, val_accuracy, learning rate, seconds).
    pub epochs: &'a [[Option<f64>; 7]],
    /// Headline results (test accuracy, test loss, ...).
    pub results: &'a [(String, String)],
    /// The classification report as text.
    pub classification_report: &'a str,
    /// The plots.
    pub figures: &'a [Figure],
}

/// Escapes text for HTML element content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the page. Fails only when a figure file cannot be read.
pub fn render(report: &Report<'_>) -> std::io::Result<String> {
    let mut html = String::new();
    let title = escape(report.title);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; }}\n\
         td, th {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}\n\
         th {{ background: #f3f3f3; }}\n\
         pre {{ background: #f7f7f7; padding: 1em; overflow-x: auto; }}\n\
         figure {{ display: inline-block; margin: 1em; vertical-align: top; }}\n\
         figure svg, figure img {{ max-width: 100%; height: auto; }}\n\
         .notice {{ border: 2px solid #c80; background: #fff6e0; padding: 0.6em 1em; margin: 1em 0; }}\n\
         </style></head><body>\n<h1>{title}</h1>\n"
    );
    for notice in report.notices {
        let _ = writeln!(
            html,
            "<p class=\"notice\"><strong>Note:</strong> {}</p>",
            escape(notice)
        );
    }
    html.push_str("<h2>Run</h2>\n<table>\n");
    for (k, v) in report.settings {
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(k),
            escape(v)
        );
    }
    html.push_str("</table>\n<h2>Results</h2>\n<table>\n");
    for (k, v) in report.results {
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(k),
            escape(v)
        );
    }
    html.push_str("</table>\n<h2>Epochs</h2>\n<table>\n<tr>");
    for h in [
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "learning rate",
        "seconds",
    ] {
        let _ = write!(html, "<th>{h}</th>");
    }
    html.push_str("</tr>\n");
    for row in report.epochs {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let text = match (i, cell) {
                (_, None) => String::from("-"),
                (0, Some(v)) => format!("{v:.0}"),
                (5, Some(v)) => format!("{v:.2e}"),
                (6, Some(v)) => format!("{v:.2}"),
                (_, Some(v)) => format!("{v:.4}"),
            };
            let _ = write!(html, "<td>{text}</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n<h2>Plots</h2>\n");
    for figure in report.figures {
        let _ = writeln!(
            html,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            embed(&figure.path)?,
            escape(&figure.caption)
        );
    }
    let _ = write!(
        html,
        "<h2>Classification report (test set)</h2>\n<pre>{}</pre>\n<h2>Model</h2>\n<pre>{}</pre>\n</body></html>\n",
        escape(report.classification_report),
        escape(report.summary)
    );
    Ok(html)
}

/// The figure as inline markup: the SVG document itself, or an `<img>` with a data URI.
fn embed(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    if path.extension().is_some_and(|e| e == "svg") {
        let text = String::from_utf8_lossy(&bytes);
        // Drop the XML declaration: it is not allowed in the middle of an HTML document.
        let start = text.find("<svg").unwrap_or(0);
        return Ok(text[start..].to_string());
    }
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(format!(
        "<img alt=\"{}\" src=\"data:image/png;base64,{data}\">",
        escape(&path.display().to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_self_contained_and_escaped() {
        let dir = std::env::temp_dir().join(format!("neurite-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let svg = dir.join("a.svg");
        std::fs::write(
            &svg,
            "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\"></svg>",
        )
        .unwrap();
        let png = dir.join("b.png");
        std::fs::write(&png, [0x89, b'P', b'N', b'G']).unwrap();
        let figures = [
            Figure {
                caption: "curves".into(),
                path: svg,
            },
            Figure {
                caption: "grid".into(),
                path: png,
            },
        ];
        let html = render(&Report {
            title: "mlp <test>",
            notices: &["bundled <sample>".into()],
            settings: &[("seed".into(), "0".into())],
            summary: "Dense <128>",
            epochs: &[[
                Some(1.0),
                Some(0.5),
                Some(0.9),
                None,
                None,
                Some(1e-3),
                Some(1.5),
            ]],
            results: &[("test accuracy".into(), "0.9".into())],
            classification_report: "a & b",
            figures: &figures,
        })
        .unwrap();
        assert!(html.contains("<title>mlp &lt;test&gt;</title>"));
        // The notice comes right after the title, before the run table.
        let notice = html
            .find("<p class=\"notice\"><strong>Note:</strong> bundled &lt;sample&gt;</p>")
            .unwrap();
        assert!(notice < html.find("<h2>Run</h2>").unwrap());
        assert!(html.contains("<svg width=\"10\""));
        assert!(!html.contains("<?xml"));
        assert!(html.contains("data:image/png;base64,iVBORw=="));
        assert!(html.contains("a &amp; b"));
        assert!(html.contains("<td>0.5000</td>"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
