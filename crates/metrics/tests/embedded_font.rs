//! The embedded DejaVu Sans draws every plot when the machine has no font: forced here with
//! `NEURITE_FONT=embedded`, which takes the same path as a bare image with no system font.
//! One test in its own binary, because the font is chosen once per process.

#![cfg(feature = "plot")]

use neurite_metrics::ConfusionMatrix;
use neurite_metrics::plot::{self, Curves, FontSource};

#[test]
fn plots_render_with_the_embedded_font() {
    // SAFETY: this binary holds this one test, and nothing else runs yet: no other thread
    // reads the environment while it is written.
    unsafe { std::env::set_var(plot::FONT_ENV, plot::EMBEDDED_FONT_NAME) };
    assert_eq!(plot::ensure_font().unwrap(), FontSource::Embedded);

    let dir = tempfile::tempdir().unwrap();
    let cm = ConfusionMatrix::new(&[0, 1, 1, 0, 1], &[0, 1, 0, 0, 1], 2).unwrap();
    let png = dir.path().join("cm.png");
    plot::confusion_matrix(&cm, &["Sneaker", "Ankle boot"], &png, (500, 460)).unwrap();
    // Text, grid and colour cells: far more than the few hundred bytes of a blank canvas.
    assert!(std::fs::metadata(&png).unwrap().len() > 3000);

    let svg = dir.path().join("curves.svg");
    let curves = [Curves::new("loss", vec![0.9, 0.5, 0.3])];
    plot::training_curves(&curves, &svg, (600, 300)).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("loss") && text.contains("epoch"), "{text}");
    // The registered family stays the embedded one for every later plot.
    assert_eq!(plot::ensure_font().unwrap(), FontSource::Embedded);
}
