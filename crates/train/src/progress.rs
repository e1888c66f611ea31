//! Keras-like progress display: a bar per epoch on a terminal, one plain line per epoch otherwise.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::EpochLogs;

/// How much `fit` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing (tests, libraries).
    Silent,
    /// A progress bar per epoch when stderr is a terminal, else one line per epoch (Keras 1/2).
    #[default]
    Auto,
    /// One line per epoch, never a bar (logs, CI).
    Lines,
}

/// The display of one `fit` call.
#[derive(Debug)]
pub(crate) struct Progress {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Progress {
    pub(crate) fn new(verbosity: Verbosity, epochs: usize) -> Self {
        let verbosity = match verbosity {
            Verbosity::Auto if !std::io::stderr().is_terminal() => Verbosity::Lines,
            v => v,
        };
        Progress {
            verbosity,
            bar: None,
            epochs,
        }
    }

    pub(crate) fn epoch_begin(&mut self, epoch: usize, steps: usize) {
        if self.verbosity != Verbosity::Auto {
            return;
        }
        eprintln!("Epoch {epoch}/{}", self.epochs);
        let bar = ProgressBar::with_draw_target(
            Some(steps as u64),
            ProgressDrawTarget::stderr_with_hz(8),
        );
        let style = ProgressStyle::with_template(
            "{pos:>5}/{len:5} [{bar:30}] {elapsed}<{eta} {per_sec:>10} {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(250));
        self.bar = Some(bar);
    }

    /// After a batch: `running` gives the running means (loss and metrics); it is only called
    /// when the bar will show them.
    pub(crate) fn batch_end(&mut self, step: usize, running: impl FnOnce() -> Vec<(String, f64)>) {
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64);
            // Formatting the message costs more than a small batch: refresh every 16 steps.
            if step % 16 == 1 {
                bar.set_message(format_pairs(&running()));
            }
        }
    }

    pub(crate) fn epoch_end(&mut self, logs: &EpochLogs, steps: usize) {
        let line = format_epoch(logs, steps);
        match self.verbosity {
            Verbosity::Silent => {}
            Verbosity::Auto => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                eprintln!("{steps}/{steps} {line}");
            }
            Verbosity::Lines => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "Epoch {}/{} {line}", logs.epoch, self.epochs);
            }
        }
    }

    pub(crate) fn abandon(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}

fn format_pairs(pairs: &[(String, f64)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("- {k}: {v:.4}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `- 2.1s 1.1ms/step - loss: 0.2954 - accuracy: 0.9142 - val_loss: ...`
pub(crate) fn format_epoch(logs: &EpochLogs, steps: usize) -> String {
    let mut pairs = vec![("loss".to_string(), logs.loss)];
    pairs.extend(logs.metrics.iter().map(|(k, v)| (k.clone(), *v)));
    if let Some(v) = logs.val_loss {
        pairs.push(("val_loss".to_string(), v));
    }
    pairs.extend(
        logs.val_metrics
            .iter()
            .map(|(k, v)| (format!("val_{k}"), *v)),
    );
    let per_step = logs.seconds / steps.max(1) as f64;
    format!(
        "- {:.1}s {:.1}ms/step {} - learning_rate: {:.3e}",
        logs.seconds,
        per_step * 1e3,
        format_pairs(&pairs),
        logs.learning_rate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_line_reads_like_keras() {
        let mut logs = EpochLogs {
            epoch: 1,
            loss: 0.29544,
            seconds: 2.0,
            learning_rate: 1e-3,
            val_loss: Some(0.31),
            ..Default::default()
        };
        logs.metrics.insert("accuracy".into(), 0.91421);
        logs.val_metrics.insert("accuracy".into(), 0.9);
        let line = format_epoch(&logs, 1000);
        assert_eq!(
            line,
            "- 2.0s 2.0ms/step - loss: 0.2954 - accuracy: 0.9142 - val_loss: 0.3100 - val_accuracy: 0.9000 - learning_rate: 1.000e-3"
        );
    }
}
