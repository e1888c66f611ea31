//! `train-mnist --resume DIR`: what a run directory must hold to be continued, and the checks
//! that a continuation trains exactly the model of that run on exactly its data.
//!
//! A run writes its training settings to `run.json` as `spec` (model, dataset, batch size,
//! optimizer, learning rate, seed, limit, validation split, total epochs) and a fingerprint of
//! its training images as `train_data`. `--resume DIR` takes the settings from there (only
//! `--epochs`, the new total, and flags that cannot change the result may be given), the model,
//! optimizer state, dropout streams and completed-epoch count from `DIR/model.safetensors`, and
//! the history so far from `DIR/history.json`. DIR itself is only read: the continued run writes
//! a run directory of its own, so nothing of the earlier run can be lost.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use neurite::data::Dataset;
use neurite::train::History;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{DatasetKind, ModelKind, OptimizerKind};

/// The settings that decide what a run trains, as `run.json` stores them under `spec`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub model: ModelKind,
    pub dataset: DatasetKind,
    /// The total number of epochs the run was asked for.
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    /// `--lr` as given (`None`: the optimizer's default).
    pub lr: Option<f64>,
    pub seed: u64,
    pub limit: Option<usize>,
    pub validation_split: f64,
}

/// The training images of a run, as `run.json` stores them under `train_data`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainData {
    pub images: usize,
    /// [`fingerprint`] of the images and labels, in hex.
    pub fingerprint: String,
}

impl TrainData {
    /// The record of `train` (after `--limit`).
    pub fn of(train: &Dataset) -> Self {
        TrainData {
            images: train.len(),
            fingerprint: format!("{:016x}", fingerprint(train)),
        }
    }
}

/// FNV-1a (64 bits) over the image bytes, then the labels: not a cryptographic digest, only a
/// guard against resuming on other images (another dataset, limit or source), which would train
/// a different model without a word.
fn fingerprint(train: &Dataset) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let bytes = train.images_u8().iter().chain(train.labels().iter());
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A run directory about to be continued.
pub struct Resume {
    /// The directory, as given.
    pub dir: PathBuf,
    /// Its settings.
    pub spec: Spec,
    /// Its training data.
    pub train_data: TrainData,
    /// `DIR/model.safetensors`.
    pub model_file: PathBuf,
    /// Its `history.json`, when present and readable.
    pub history: Option<History>,
    /// Whether the run was interrupted (its model holds part of an epoch).
    pub interrupted: bool,
}

impl Resume {
    /// Reads what `dir` must hold: `run.json` with the settings, and `model.safetensors`.
    ///
    /// # Errors
    /// A missing directory or file, a `run.json` that is not a train-mnist run's or whose run
    /// never finished writing its outputs.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!(
                "--resume {}: no such directory (pass the directory of an earlier train-mnist run, e.g. runs/<timestamp>-mlp-mnist)",
                dir.display()
            );
        }
        let run_json = dir.join("run.json");
        let text = std::fs::read_to_string(&run_json).with_context(|| {
            format!(
                "--resume {}: cannot read {} (not a train-mnist run directory?)",
                dir.display(),
                run_json.display()
            )
        })?;
        let run: Value = serde_json::from_str(&text)
            .with_context(|| format!("--resume: {} is not valid JSON", run_json.display()))?;
        let field = |name: &str| {
            run.get(name).cloned().with_context(|| {
                format!(
                    "--resume: {} has no `{name}`: the run was made by a neurite without resume support",
                    run_json.display()
                )
            })
        };
        let spec: Spec = serde_json::from_value(field("spec")?)
            .with_context(|| format!("--resume: `spec` in {} is damaged", run_json.display()))?;
        let train_data: TrainData =
            serde_json::from_value(field("train_data")?).with_context(|| {
                format!(
                    "--resume: `train_data` in {} is damaged",
                    run_json.display()
                )
            })?;
        let outcome = field("outcome")?;
        if outcome == json!("running") {
            bail!(
                "--resume {}: the run there never finished writing its outputs (run.json says it is still running), so there is no model to continue from",
                dir.display()
            );
        }
        let interrupted = outcome.get("interrupted") == Some(&json!(true));
        let model_file = dir.join("model.safetensors");
        if !model_file.is_file() {
            bail!(
                "--resume {}: no model.safetensors there to continue from",
                dir.display()
            );
        }
        let history = std::fs::read_to_string(dir.join("history.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<History>(&text).ok());
        Ok(Resume {
            dir: dir.to_path_buf(),
            spec,
            train_data,
            model_file,
            history,
            interrupted,
        })
    }

    /// Fails unless `train` holds the images the run trained on.
    pub fn check_data(&self, train: &TrainData) -> anyhow::Result<()> {
        if *train != self.train_data {
            bail!(
                "--resume {}: the training data differ from the run's ({} images, fingerprint {}; \
                 now {} images, fingerprint {}): the run's dataset, --limit or data files are not \
                 the ones found now; pass the --data or --offline the run used",
                self.dir.display(),
                self.train_data.images,
                self.train_data.fingerprint,
                train.images,
                train.fingerprint
            );
        }
        Ok(())
    }

    /// Fails unless `total` is above the `completed` epochs.
    pub fn check_epochs(&self, total: usize, completed: usize) -> anyhow::Result<()> {
        if total <= completed {
            bail!(
                "--resume {}: --epochs {total} is not above the epochs the run has completed \
                 ({completed}); --epochs is the total to reach (e.g. --epochs {})",
                self.dir.display(),
                completed + 1
            );
        }
        Ok(())
    }

    /// The earlier epochs of the history, up to `completed` (an epoch that was cut short is run
    /// again, so its partial record is dropped); `None` without a readable `history.json`.
    pub fn earlier_epochs(&self, completed: usize) -> Option<History> {
        let mut history = self.history.clone()?;
        history.epochs.retain(|e| e.epoch <= completed);
        history.stopped_early = None;
        Some(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_sees_one_changed_pixel() {
        let images = ndarray::Array4::<u8>::zeros((3, 1, 2, 2));
        let labels = ndarray::Array1::from(vec![0u8, 1, 2]);
        let a = Dataset::new(images.clone(), labels.clone(), 10).unwrap();
        let mut changed = images;
        changed[[2, 0, 1, 1]] = 1;
        let b = Dataset::new(changed, labels, 10).unwrap();
        assert_ne!(TrainData::of(&a), TrainData::of(&b));
        assert_eq!(TrainData::of(&a), TrainData::of(&a.clone()));
    }
}
