//! The command line of `cargo xtask train-mnist`, and the settings a run resolves from it.

use std::path::PathBuf;

use clap::ValueEnum;
use neurite::data::{DatasetInfo, FASHION_MNIST, MNIST};
use neurite::optim::Optimizer;
use serde::{Deserialize, Serialize};

use super::{data, resume};

/// `--epochs` when not given.
pub(super) const DEFAULT_EPOCHS: usize = 5;

/// Arguments of `cargo xtask train-mnist`.
#[derive(clap::Args)]
pub struct Args {
    /// Reference model: the MLP or the CNN of the Keras tutorials.
    #[arg(long, value_enum, default_value_t = ModelKind::Cnn)]
    pub(super) model: ModelKind,
    /// Dataset to train on.
    #[arg(long, value_enum, default_value_t = DatasetKind::Mnist)]
    pub(super) dataset: DatasetKind,
    /// Use only this directory (its `<dataset>/`, or itself) for the IDX files, `.gz` or
    /// uncompressed. Without it: NEURITE_DATA, ./data, /usr/share/datasets, a download; for
    /// MNIST, finally the bundled 10k sample.
    #[arg(long)]
    pub(super) data: Option<PathBuf>,
    /// Never download: use files on disk, else (MNIST) the bundled sample.
    #[arg(long)]
    pub(super) offline: bool,
    /// Passes over the training data [default: 5]; with --resume, the total to reach (epochs
    /// of the earlier run included).
    #[arg(long)]
    pub(super) epochs: Option<usize>,
    /// Samples per step (default: 32 for mlp, 64 for cnn, as in the reference models).
    #[arg(long)]
    pub(super) batch_size: Option<usize>,
    /// Learning rate (default: 1e-3 for Adam, AdamW and RMSprop, 1e-2 for SGD and Adagrad).
    #[arg(long)]
    pub(super) lr: Option<f64>,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    pub(super) optimizer: OptimizerKind,
    /// Seed for initial weights, dropout and shuffling.
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(super) threads: Option<usize>,
    /// Train on the first N training images only.
    #[arg(long)]
    pub(super) limit: Option<usize>,
    /// Fraction of the training images held out for validation (the last ones, as Keras); 0 for
    /// no validation.
    #[arg(long, default_value_t = 0.1)]
    pub(super) validation_split: f64,
    /// Output directory (default: a new `runs/<UTC timestamp>-<model>-<dataset>`, numbered when
    /// that exists).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Continue the run in DIR from its model.safetensors (weights, optimizer state, dropout
    /// streams, epochs completed) with its settings (from DIR/run.json) up to --epochs in total:
    /// the model is bit-identical to that of a run that was never stopped (when DIR's run ended
    /// after a whole epoch; an epoch cut short by Ctrl-C is run again from its start). DIR is
    /// only read; the outputs go to a new run directory (or --out), with history.json covering
    /// all epochs. Only --epochs (required), --out, --threads, --data and --offline may be given
    /// with it.
    #[arg(long, value_name = "DIR", requires = "epochs", conflicts_with_all = [
        "model", "dataset", "batch_size", "lr", "optimizer", "seed", "limit", "validation_split",
    ])]
    pub(super) resume: Option<PathBuf>,
    /// For tests: behave as if Ctrl-C were pressed after this many batches.
    #[arg(long, hide = true)]
    pub(super) interrupt_after_batches: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ModelKind {
    Mlp,
    Cnn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum DatasetKind {
    Mnist,
    FashionMnist,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum OptimizerKind {
    Adam,
    Adamw,
    Sgd,
    Rmsprop,
    Adagrad,
}

impl ModelKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
        }
    }
}

impl DatasetKind {
    pub(super) fn info(self) -> &'static DatasetInfo {
        match self {
            DatasetKind::Mnist => &MNIST,
            DatasetKind::FashionMnist => &FASHION_MNIST,
        }
    }
}

impl Args {
    /// These arguments with the training settings of the run being resumed (clap has already
    /// refused those flags next to --resume; the rest, --epochs included, are kept).
    pub(super) fn with_spec(self, spec: &resume::Spec) -> Args {
        Args {
            model: spec.model,
            dataset: spec.dataset,
            batch_size: Some(spec.batch_size),
            lr: spec.lr,
            optimizer: spec.optimizer,
            seed: spec.seed,
            limit: spec.limit,
            validation_split: spec.validation_split,
            ..self
        }
    }
}

/// The resolved settings of a run, as report rows (also stored in `run.json`).
pub(super) fn settings(
    args: &Args,
    epochs: usize,
    dataset: &str,
    source: &data::Source,
    train_len: usize,
    batch_size: usize,
    optimizer: &dyn Optimizer<f32>,
) -> Vec<(String, String)> {
    let validation = if args.validation_split > 0.0 {
        format!(
            "{:.0} % of the training images held out (the last ones)",
            args.validation_split * 100.0
        )
    } else {
        "none (--validation-split 0)".into()
    };
    vec![
        ("model".into(), args.model.name().into()),
        ("dataset".into(), dataset.into()),
        ("data".into(), source.describe()),
        ("training images".into(), train_len.to_string()),
        ("validation".into(), validation),
        ("epochs".into(), epochs.to_string()),
        ("batch size".into(), batch_size.to_string()),
        (
            "optimizer".into(),
            format!(
                "{} (learning rate {})",
                optimizer.name(),
                optimizer.learning_rate()
            ),
        ),
        ("seed".into(), args.seed.to_string()),
        ("threads".into(), rayon::current_num_threads().to_string()),
        (
            "limit".into(),
            args.limit.map_or("none".into(), |n| n.to_string()),
        ),
        ("offline".into(), args.offline.to_string()),
    ]
}

/// `runs/<YYYYMMDD-HHMMSS>-<model>-<dataset>` in UTC.
pub(super) fn default_out(model: &str, dataset: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    PathBuf::from(format!(
        "runs/{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{model}-{dataset}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_out_is_a_utc_timestamp() {
        let p = super::default_out("cnn", "mnist");
        let s = p.to_string_lossy();
        assert!(s.starts_with("runs/20") && s.ends_with("-cnn-mnist"), "{s}");
        assert_eq!(s.len(), "runs/20261124-102300-cnn-mnist".len());
    }
}
