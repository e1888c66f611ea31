//! Every plot rendered to SVG and PNG: the file must be a valid image of the requested size
//! with the expected content. Text uses a system font when there is one and the embedded DejaVu
//! Sans otherwise (`tests/embedded_font.rs` forces that path), so these tests always run.
//! Set `NEURITE_KEEP_PLOTS=<dir>` to keep a copy of every rendered file for a visual check.

#![cfg(feature = "plot")]

use std::path::Path;

use ndarray::{Array2, Array3, array};
use neurite_metrics::plot::{self, Curves};
use neurite_metrics::{ConfusionMatrix, MetricError};

/// The system-font path is the optional part: CI installs `fonts-dejavu-core` and checks that
/// plots pick it up; elsewhere a machine without fonts skips this (and plots embed DejaVu Sans).
#[test]
fn a_system_font_is_found_and_used() {
    let probe = plot::system_font().ok_or_else(|| {
        "no system TrueType font (install: sudo apt-get install fonts-dejavu-core)".to_string()
    });
    let Some(path) = neurite_testing::require("a_system_font_is_found_and_used", probe) else {
        return;
    };
    if std::env::var_os(plot::FONT_ENV).is_none() {
        assert_eq!(plot::ensure_font().unwrap(), plot::FontSource::File(path));
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{path:?} is not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Width and height attributes of the SVG root element, and the whole text.
fn svg_size(path: &Path) -> ((u32, u32), String) {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("<svg").expect("no <svg> root");
    let root = &text[start..start + text[start..].find('>').unwrap()];
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let at = root
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} in {root}"))
            + key.len();
        root[at..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(text.trim_end().ends_with("</svg>"));
    ((attr("width"), attr("height")), text)
}

/// Renders with `draw` to both formats and checks sizes; returns the SVG text.
fn render_both(
    name: &str,
    size: (u32, u32),
    draw: impl Fn(&Path) -> neurite_metrics::Result<()>,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join(format!("{name}.png"));
    draw(&png).unwrap();
    assert_eq!(png_size(&png), size);
    // A blank canvas of this size compresses to a few hundred bytes.
    assert!(
        std::fs::metadata(&png).unwrap().len() > 3000,
        "{name}.png looks empty"
    );
    let svg = dir.path().join(format!("{name}.svg"));
    draw(&svg).unwrap();
    let (svg_dims, text) = svg_size(&svg);
    assert_eq!(svg_dims, size);
    // Only the two images remain: no temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    // To look at the plots: NEURITE_KEEP_PLOTS=some/dir cargo test -p neurite-metrics --test plots
    if let Some(keep) = std::env::var_os("NEURITE_KEEP_PLOTS") {
        for file in [&png, &svg] {
            std::fs::copy(file, Path::new(&keep).join(file.file_name().unwrap())).unwrap();
        }
    }
    text
}

#[test]
fn training_curves_render() {
    let loss = Curves::new("loss", vec![1.2, 0.7, 0.5, 0.45]).with_validation(vec![
        1.3,
        0.8,
        0.62,
        f64::NAN,
    ]);
    let acc = Curves::new("accuracy", vec![0.6, 0.8, 0.85, 0.9]);
    let single = Curves::new("one epoch", vec![0.5]);
    let svg = render_both("curves", (900, 360), |p| {
        plot::training_curves(&[loss.clone(), acc.clone(), single.clone()], p, (900, 360))
    });
    for word in ["loss", "accuracy", "validation", "train", "epoch"] {
        assert!(svg.contains(word), "missing {word:?}");
    }
}

#[test]
fn confusion_matrix_renders() {
    let names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];
    let y_true: Vec<usize> = (0..500).map(|i| i % 10).collect();
    let y_pred: Vec<usize> = (0..500)
        .map(|i| if i % 7 == 0 { (i + 3) % 10 } else { i % 10 })
        .collect();
    let cm = ConfusionMatrix::new(&y_true, &y_pred, 10).unwrap();
    let svg = render_both("cm", (700, 640), |p| {
        plot::confusion_matrix(&cm, &names, p, (700, 640))
    });
    assert!(svg.contains("Ankle boot") && svg.contains("predicted label"));
    // The count of the (0, 0) cell is written in the plot.
    assert!(svg.contains(&format!(">\n{}\n<", cm.counts()[[0, 0]])));
}

#[test]
fn roc_and_pr_curves_render() {
    let y_true: Vec<usize> = (0..60).map(|i| i % 3).collect();
    let scores = Array2::from_shape_fn((60, 3), |(i, c)| {
        if i % 3 == c {
            0.5 + (i % 5) as f64 * 0.1
        } else {
            0.1 + (i % 4) as f64 * 0.1
        }
    });
    let names = ["alpha", "beta", "gamma"];
    let svg = render_both("roc", (640, 480), |p| {
        plot::roc_curves(&y_true, scores.view(), &names, p, (640, 480))
    });
    assert!(svg.contains("macro average (AUC = ") && svg.contains("gamma (AUC = "));
    let svg = render_both("pr", (640, 480), |p| {
        plot::precision_recall_curves(&y_true, scores.view(), &names, p, (640, 480))
    });
    assert!(svg.contains("beta (AP = "));
    // A class absent from the truth has no ROC curve but does not stop the plot.
    let partial: Vec<usize> = y_true.iter().map(|&t| if t == 2 { 0 } else { t }).collect();
    let svg = render_both("roc_partial", (500, 400), |p| {
        plot::roc_curves(&partial, scores.view(), &names, p, (500, 400))
    });
    assert!(svg.contains("gamma (absent: no curve)"));
}

#[test]
fn misclassified_images_render() {
    let images = Array3::from_shape_fn((12, 28, 28), |(n, r, c)| ((r + c + n) % 28) as f32 / 27.0);
    let y_true: Vec<usize> = (0..12).map(|i| i % 3).collect();
    let y_pred: Vec<usize> = (0..12)
        .map(|i| if i % 2 == 0 { (i + 1) % 3 } else { i % 3 })
        .collect();
    let names = ["zero", "one", "two"];
    let svg = render_both("wrong", (600, 420), |p| {
        plot::misclassified_images(images.view(), &y_true, &y_pred, &names, 4, p, (600, 420))
    });
    // Exactly four titled cells; sample 0 is true "zero", predicted "one".
    assert_eq!(svg.matches(" / ").count(), 5, "title + 4 cells");
    assert!(svg.contains("zero / one"));
    let none = render_both("none", (300, 200), |p| {
        plot::misclassified_images(images.view(), &y_true, &y_true, &names, 4, p, (300, 200))
    });
    assert!(none.contains("no misclassified images"));
}

#[test]
fn bad_plot_arguments_are_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cm = ConfusionMatrix::new(&[0, 1], &[0, 0], 2).unwrap();
    let jpg = dir.path().join("cm.jpg");
    assert!(matches!(
        plot::confusion_matrix(&cm, &["a", "b"], &jpg, (400, 400)),
        Err(MetricError::InvalidArgument { name: "path", .. })
    ));
    let png = dir.path().join("cm.png");
    assert!(matches!(
        plot::confusion_matrix(&cm, &["a", "b"], &png, (10, 400)),
        Err(MetricError::InvalidArgument { name: "size", .. })
    ));
    assert!(matches!(
        plot::confusion_matrix(&cm, &["a"], &png, (400, 400)),
        Err(MetricError::LengthMismatch { .. })
    ));
    let uneven = Curves::new("loss", vec![1.0, 0.5]).with_validation(vec![1.0]);
    assert!(plot::training_curves(&[uneven], &png, (400, 400)).is_err());
    assert!(plot::training_curves(&[], &png, (400, 400)).is_err());
    let images = Array3::<f32>::zeros((2, 4, 4));
    assert!(
        plot::misclassified_images(
            images.view(),
            &[0, 1],
            &[0, 2],
            &["a", "b"],
            4,
            &png,
            (400, 400)
        )
        .is_err()
    );
    assert!(
        plot::misclassified_images(images.view(), &[0], &[0], &["a", "b"], 4, &png, (400, 400))
            .is_err()
    );
    let scores = array![[0.2, 0.8], [0.6, 0.4]];
    assert!(
        plot::roc_curves(&[0, 0], scores.view(), &["a", "b"], &png, (400, 400)).is_err(),
        "one class only"
    );
    let missing_dir = dir.path().join("no/such/dir/cm.png");
    assert!(matches!(
        plot::confusion_matrix(&cm, &["a", "b"], &missing_dir, (400, 400)),
        Err(MetricError::Io { .. })
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
