//! `CSVLogger`: one CSV row per epoch, written as training goes.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use neurite_tensor::Float;

use super::Context;
use crate::{Callback, EpochLogs, History, Result, TrainError};

/// Appends one row per epoch to a CSV file (Keras `CSVLogger`): `epoch`, then the logged
/// values in alphabetical order (`accuracy`, `learning_rate`, `loss`, `val_accuracy`,
/// `val_loss`, ...). Each row is flushed as soon as its epoch ends, so a run that crashes
/// keeps the log of every epoch it finished. Epochs are numbered from 1, as in the history and
/// the progress display (Keras writes its 0-based index).
///
/// Without [`CSVLogger::append`] the file is replaced when training begins; with it, rows are
/// added to an existing file under its header (a value the header does not name is left out,
/// a named one this run does not log is written `NA`), and a header is written only if the
/// file is empty.
///
/// ```
/// use neurite_train::CSVLogger;
/// let log = CSVLogger::new("training.csv").separator(';').append(true);
/// ```
#[derive(Debug)]
pub struct CSVLogger {
    path: PathBuf,
    separator: char,
    append: bool,
    file: Option<File>,
    columns: Option<Vec<String>>,
    write_header: bool,
}

impl CSVLogger {
    /// Logs to `path`, comma-separated, replacing the file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CSVLogger {
            path: path.into(),
            separator: ',',
            append: false,
            file: None,
            columns: None,
            write_header: true,
        }
    }

    neurite_tensor::builder_setters! {
        /// The column separator (Keras `separator`, default `,`).
        separator: char,
        /// Adds to an existing file rather than replacing it (Keras `append`).
        append: bool,
    }

    fn error(&self, what: &str, e: std::io::Error) -> TrainError {
        TrainError::Callback {
            callback: "CSVLogger",
            detail: format!("{what} {}: {e}", self.path.display()),
        }
    }
}

/// The logged values of an epoch by name, `learning_rate` included.
fn values(logs: &EpochLogs) -> Vec<(String, f64)> {
    let mut values = vec![
        (String::from("loss"), logs.loss),
        (String::from("learning_rate"), logs.learning_rate),
    ];
    values.extend(logs.metrics.iter().map(|(k, v)| (k.clone(), *v)));
    if let Some(v) = logs.val_loss {
        values.push((String::from("val_loss"), v));
    }
    values.extend(
        logs.val_metrics
            .iter()
            .map(|(k, v)| (format!("val_{k}"), *v)),
    );
    values.sort_by(|a, b| a.0.cmp(&b.0));
    values
}

impl<F: Float> Callback<F> for CSVLogger {
    fn name(&self) -> &'static str {
        "CSVLogger"
    }

    fn on_train_begin(&mut self, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.write_header = true;
        self.columns = None;
        if self.append && self.path.exists() {
            let file = File::open(&self.path).map_err(|e| self.error("cannot read", e))?;
            let mut first = String::new();
            BufReader::new(file)
                .read_line(&mut first)
                .map_err(|e| self.error("cannot read", e))?;
            let header = first.trim_end();
            if !header.is_empty() {
                self.write_header = false;
                let names = header.split(self.separator).skip(1);
                self.columns = Some(names.map(String::from).collect());
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.path)
            .map_err(|e| self.error("cannot open", e))?;
        self.file = Some(file);
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, _ctx: &mut Context<'_, F>) -> Result<()> {
        let values = values(logs);
        let columns = self
            .columns
            .get_or_insert_with(|| values.iter().map(|(k, _)| k.clone()).collect());
        let sep = self.separator.to_string();
        let mut text = String::new();
        if self.write_header {
            let mut header = vec![String::from("epoch")];
            header.extend(columns.iter().cloned());
            text.push_str(&header.join(&sep));
            text.push('\n');
        }
        let mut row = vec![logs.epoch.to_string()];
        for column in columns.iter() {
            // A value missing from this epoch is written as Keras writes it: NA.
            let cell = values
                .iter()
                .find(|(k, _)| k == column)
                .map_or_else(|| String::from("NA"), |(_, v)| v.to_string());
            row.push(cell);
        }
        text.push_str(&row.join(&sep));
        text.push('\n');
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let written = file.write_all(text.as_bytes()).and_then(|()| file.flush());
        written.map_err(|e| self.error("cannot write", e))?;
        self.write_header = false;
        Ok(())
    }

    fn on_train_end(&mut self, _history: &History, _ctx: &mut Context<'_, F>) -> Result<()> {
        self.file = None;
        Ok(())
    }
}
