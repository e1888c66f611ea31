//! The figures of one training run (neurite or a peer), and how `bench train` prints them:
//! a table row, or one JSON object per line, with the ratios against the peers.

use serde_json::{Value, json};

/// What one framework measured for one model at one thread count.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// `mlp` or `cnn`.
    pub model: String,
    /// `neurite`, `keras` or `torch`.
    pub framework: String,
    /// The library's version string, when known.
    pub version: Option<String>,
    /// Threads the library was asked to use.
    pub threads: usize,
    /// Training images per epoch.
    pub train_samples: usize,
    /// Wall time of every epoch, training only.
    pub epoch_seconds_all: Vec<f64>,
    /// Accuracy on the test set after training, in [0, 1].
    pub test_accuracy: f64,
    /// Predictions per second over the test set (batches of 1000).
    pub inference_samples_per_sec: f64,
}

impl Measurement {
    /// The median epoch time, so that one disturbed or warm-up epoch does not count.
    pub fn epoch_seconds(&self) -> f64 {
        median(&self.epoch_seconds_all)
    }

    /// Training images per second in the median epoch.
    pub fn samples_per_sec(&self) -> f64 {
        self.train_samples as f64 / self.epoch_seconds()
    }

    /// This run against a peer's run of the same configuration.
    pub fn versus(&self, peer: &Measurement) -> Versus {
        Versus {
            framework: peer.framework.clone(),
            epoch_time_ratio: self.epoch_seconds() / peer.epoch_seconds(),
            accuracy_diff_pp: (self.test_accuracy - peer.test_accuracy) * 100.0,
        }
    }

    /// One JSON object: the fields of the issue, then the extras, then the ratios (if any).
    pub fn to_json(&self, versus: &[Versus]) -> Value {
        let mut line = json!({
            "model": self.model,
            "framework": self.framework,
            "threads": self.threads,
            "epoch_seconds": round(self.epoch_seconds(), 4),
            "samples_per_sec": round(self.samples_per_sec(), 1),
            "test_accuracy": round(self.test_accuracy, 4),
            "inference_samples_per_sec": round(self.inference_samples_per_sec, 1),
            "epoch_seconds_all": self.epoch_seconds_all.iter().map(|&s| round(s, 4)).collect::<Vec<_>>(),
            "train_samples": self.train_samples,
            "version": self.version,
        });
        for v in versus {
            line[format!("epoch_time_ratio_vs_{}", v.framework)] =
                json!(round(v.epoch_time_ratio, 3));
            line[format!("accuracy_pp_vs_{}", v.framework)] = json!(round(v.accuracy_diff_pp, 2));
        }
        line
    }
}

/// A neurite run compared with a peer's.
#[derive(Clone, Debug, PartialEq)]
pub struct Versus {
    /// The peer: `keras` or `torch`.
    pub framework: String,
    /// neurite's median epoch time divided by the peer's (below 1: neurite is faster).
    pub epoch_time_ratio: f64,
    /// neurite's test accuracy minus the peer's, in percentage points.
    pub accuracy_diff_pp: f64,
}

/// The median of `values` (the mean of the middle two for an even count; NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// The table's header line.
pub fn table_header() -> String {
    format!(
        "{:<5} {:<9} {:>7} {:>12} {:>11} {:>9} {:>13}  {}",
        "model",
        "framework",
        "threads",
        "epoch s (md)",
        "samples/s",
        "test acc",
        "infer smp/s",
        "neurite vs peer (epoch time ratio, accuracy diff)"
    )
}

/// One table row; `versus` fills the last column.
pub fn table_row(m: &Measurement, versus: &[Versus]) -> String {
    let ratios: Vec<String> = versus
        .iter()
        .map(|v| {
            format!(
                "{}: {:.2}x, {:+.2} pp",
                v.framework, v.epoch_time_ratio, v.accuracy_diff_pp
            )
        })
        .collect();
    format!(
        "{:<5} {:<9} {:>7} {:>12.3} {:>11.0} {:>8.2}% {:>13.0}  {}",
        m.model,
        m.framework,
        m.threads,
        m.epoch_seconds(),
        m.samples_per_sec(),
        m.test_accuracy * 100.0,
        m.inference_samples_per_sec,
        ratios.join("; ")
    )
    .trim_end()
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(framework: &str, epochs: Vec<f64>, accuracy: f64) -> Measurement {
        Measurement {
            model: "mlp".into(),
            framework: framework.into(),
            version: None,
            threads: 2,
            train_samples: 60_000,
            epoch_seconds_all: epochs,
            test_accuracy: accuracy,
            inference_samples_per_sec: 1e5,
        }
    }

    #[test]
    fn median_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn samples_per_sec_uses_the_median_epoch() {
        let m = run("neurite", vec![9.0, 2.0, 3.0], 0.9);
        assert_eq!(m.epoch_seconds(), 3.0);
        assert_eq!(m.samples_per_sec(), 20_000.0);
    }

    #[test]
    fn versus_gives_time_ratio_and_accuracy_points() {
        let ours = run("neurite", vec![2.0, 2.0, 2.0], 0.881);
        let peer = run("keras", vec![8.0, 4.0, 4.0], 0.875);
        let v = ours.versus(&peer);
        assert_eq!(v.framework, "keras");
        assert_eq!(v.epoch_time_ratio, 0.5);
        assert!((v.accuracy_diff_pp - 0.6).abs() < 1e-9);
    }

    #[test]
    fn json_line_has_the_issue_fields_and_ratios() {
        let ours = run("neurite", vec![2.0, 3.0, 4.0], 0.88);
        let peer = run("torch", vec![6.0], 0.87);
        let line = ours.to_json(&[ours.versus(&peer)]);
        assert_eq!(line["model"], "mlp");
        assert_eq!(line["framework"], "neurite");
        assert_eq!(line["threads"], 2);
        assert_eq!(line["epoch_seconds"], 3.0);
        assert_eq!(line["samples_per_sec"], 20_000.0);
        assert_eq!(line["test_accuracy"], 0.88);
        assert_eq!(line["epoch_seconds_all"], json!([2.0, 3.0, 4.0]));
        assert_eq!(line["epoch_time_ratio_vs_torch"], 0.5);
        assert_eq!(line["accuracy_pp_vs_torch"], 1.0);
    }

    #[test]
    fn table_row_shows_ratios() {
        let ours = run("neurite", vec![2.0], 0.9);
        let peer = run("keras", vec![4.0], 0.9);
        let row = table_row(&ours, &[ours.versus(&peer)]);
        assert!(row.contains("keras: 0.50x, +0.00 pp"), "{row}");
        assert!(row.contains("90.00%"), "{row}");
    }
}
