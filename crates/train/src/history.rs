//! `History`: what `fit` returns, one record per epoch, serializable to JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The figures of one epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochLogs {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (weighted by batch size).
    pub loss: f64,
    /// Training metrics by name (`accuracy`, ...), averaged over the epoch.
    pub metrics: BTreeMap<String, f64>,
    /// Validation loss after the epoch, when validation data was given.
    pub val_loss: Option<f64>,
    /// Validation metrics by name, when validation data was given.
    pub val_metrics: BTreeMap<String, f64>,
    /// Learning rate in effect at the end of the epoch.
    pub learning_rate: f64,
    /// Wall-clock seconds spent training (not validating) in this epoch.
    pub seconds: f64,
}

impl EpochLogs {
    /// A value by Keras' name: `loss`, `val_loss`, a metric name or `val_<metric>`.
    ///
    /// ```
    /// use neurite_train::EpochLogs;
    /// let mut logs = EpochLogs { loss: 0.5, val_loss: Some(0.7), ..Default::default() };
    /// logs.metrics.insert("accuracy".into(), 0.9);
    /// assert_eq!(logs.get("val_loss"), Some(0.7));
    /// assert_eq!(logs.get("accuracy"), Some(0.9));
    /// assert_eq!(logs.get("val_accuracy"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "loss" => Some(self.loss),
            "val_loss" => self.val_loss,
            "learning_rate" | "lr" => Some(self.learning_rate),
            _ => match name.strip_prefix("val_") {
                Some(metric) => self.val_metrics.get(metric).copied(),
                None => self.metrics.get(name).copied(),
            },
        }
    }
}

/// The record of a `fit` call: one [`EpochLogs`] per completed epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Completed epochs in order.
    pub epochs: Vec<EpochLogs>,
    /// Why training ended early (`EarlyStopping`, Ctrl-C, ...), if it did.
    pub stopped_early: Option<String>,
}

impl History {
    /// The series of one quantity over the epochs (`loss`, `val_accuracy`, ...); epochs that
    /// lack it are skipped.
    pub fn series(&self, name: &str) -> Vec<f64> {
        self.epochs.iter().filter_map(|e| e.get(name)).collect()
    }

    /// The last epoch's logs.
    pub fn last(&self) -> Option<&EpochLogs> {
        self.epochs.last()
    }

    /// The history as pretty JSON (what `cargo xtask train-mnist` writes to `history.json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain numbers and strings always serialize")
    }
}
