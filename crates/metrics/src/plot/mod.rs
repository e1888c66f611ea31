//! Plots of training and evaluation results, written as SVG or PNG (chosen by the file
//! extension) with [plotters].
//!
//! Every function takes the output path and `size = (width, height)` in pixels, and writes the
//! file atomically (a temporary file in the same directory, renamed when complete). Text is drawn
//! with `$NEURITE_FONT` if set, else a common system font such as DejaVu Sans, else the copy of
//! DejaVu Sans embedded in this crate, so plots never depend on the machine's fonts (see
//! [`ensure_font`]).
//!
//! | function | draws |
//! |---|---|
//! | [`training_curves`] | loss and metrics per epoch, train and validation |
//! | [`confusion_matrix`] | heat map with counts and class names |
//! | [`roc_curves`] | one-vs-rest ROC per class and the macro average |
//! | [`precision_recall_curves`] | one-vs-rest precision-recall per class |
//! | [`misclassified_images`] | a grid of wrongly classified images |

mod confusion;
mod curves;
mod font;
mod images;
mod output;
mod style;
mod training;

pub use confusion::confusion_matrix;
pub use curves::{precision_recall_curves, roc_curves};
pub use font::{EMBEDDED_FONT_NAME, FONT_ENV, FontSource, ensure_font, system_font};
pub use images::misclassified_images;
pub use output::{Format, MAX_SIDE, MIN_SIDE};
pub use training::{Curves, training_curves};
