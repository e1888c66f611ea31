//! How a run ended (completed, stopped early, or interrupted at epoch k of n), in the words and
//! the JSON that every output of the run repeats, so no file can pass off a cut-short run as a
//! finished one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use neurite::train::{Callback, Context, History};
use serde_json::{Value, json};

/// The end of a run's training.
pub struct RunStatus {
    /// Epochs asked for (`--epochs`).
    pub planned: usize,
    /// The last epoch in the history (cut short when interrupted); the number of epochs logged,
    /// unless a resumed run's history lacks the earlier ones.
    pub logged: usize,
    /// Ctrl-C (or `--interrupt-after-batches`) stopped it.
    pub interrupted: bool,
    /// Why a callback stopped it, if one did.
    pub stopped_early: Option<String>,
}

impl RunStatus {
    /// The status of a finished `fit`.
    pub fn new(planned: usize, history: &History, interrupted: bool) -> Self {
        RunStatus {
            planned,
            logged: history.last().map_or(0, |e| e.epoch),
            interrupted,
            stopped_early: history.stopped_early.clone(),
        }
    }

    /// `completed`, `interrupted` or `stopped_early`.
    pub fn state(&self) -> &'static str {
        if self.interrupted {
            "interrupted"
        } else if self.stopped_early.is_some() {
            "stopped_early"
        } else {
            "completed"
        }
    }

    /// One sentence for the terminal, `run.json` and `report.html`.
    pub fn text(&self) -> String {
        let (k, n) = (self.logged, self.planned);
        if self.interrupted {
            format!(
                "interrupted at epoch {k} of {n} (Ctrl-C during epoch {k}, which was cut short); \
                 the model as it was then is saved and evaluated"
            )
        } else if let Some(reason) = &self.stopped_early {
            format!("stopped early after epoch {k} of {n}: {reason}")
        } else {
            format!("completed {k} of {n} epochs")
        }
    }

    /// The `status` object of `history.json` and `metrics.json`.
    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state(),
            "epochs_planned": self.planned,
            "epochs_logged": self.logged,
            "interrupted_at_epoch": self.interrupted.then_some(self.logged),
            "stopped_early": self.stopped_early,
            "text": self.text(),
        })
    }
}

/// `history.json`: the history's own fields plus the run's `status`.
pub fn history_json(history: &History, status: &RunStatus) -> anyhow::Result<String> {
    let mut value: Value = serde_json::from_str(&history.to_json())?;
    if let Some(object) = value.as_object_mut() {
        object.insert(String::from("status"), status.to_json());
    }
    Ok(serde_json::to_string_pretty(&value)?)
}

/// Raises the interrupt flag after a number of batches, exactly as Ctrl-C would at that point:
/// how tests interrupt a run at a known step (`--interrupt-after-batches`).
pub struct InterruptAfter {
    left: usize,
    flag: Arc<AtomicBool>,
}

impl InterruptAfter {
    /// Interrupts after `batches` batches (counted over all epochs).
    pub fn new(batches: usize, flag: Arc<AtomicBool>) -> Self {
        InterruptAfter {
            left: batches,
            flag,
        }
    }
}

impl Callback<f32> for InterruptAfter {
    fn name(&self) -> &'static str {
        "InterruptAfter"
    }

    fn on_batch_end(
        &mut self,
        _step: usize,
        _loss: f64,
        _ctx: &mut Context<'_, f32>,
    ) -> neurite::train::Result<()> {
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            self.flag.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_is_named_with_its_epoch() {
        let status = |interrupted, stopped_early: Option<&str>| RunStatus {
            planned: 5,
            logged: 2,
            interrupted,
            stopped_early: stopped_early.map(String::from),
        };
        let cut = status(true, Some("interrupted during epoch 2"));
        assert_eq!(cut.state(), "interrupted");
        assert!(cut.text().starts_with("interrupted at epoch 2 of 5"));
        assert_eq!(cut.to_json()["interrupted_at_epoch"], 2);
        let early = status(false, Some("val_loss did not improve"));
        assert_eq!(early.state(), "stopped_early");
        assert_eq!(
            early.text(),
            "stopped early after epoch 2 of 5: val_loss did not improve"
        );
        assert_eq!(early.to_json()["interrupted_at_epoch"], Value::Null);
        assert_eq!(status(false, None).text(), "completed 2 of 5 epochs");
    }
}
