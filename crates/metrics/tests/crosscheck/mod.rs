//! Cross-check of neurite-metrics against scikit-learn on random cases.
//!
//! Shared by the `sklearn` integration test and `cargo xtask verify-metrics` (which includes this
//! file with `#[path]`). Cases are drawn with ties and degenerate inputs on purpose: classes
//! absent from the truth or never predicted, all scores equal, one-class binary labels, a single
//! sample. Each case is computed here and by `scripts/sk_reference.py`; every number must agree
//! within [`TOLERANCE`] (curves point by point) and every text exactly.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use ndarray::{Array1, Array2};
use neurite_metrics as nm;
use serde_json::{Map, Value, json};

/// Largest accepted absolute difference between a Rust and a scikit-learn number.
pub const TOLERANCE: f64 = 1e-12;

/// Cases sent to Python per process, to bound memory.
const BATCH: usize = 400;

/// What a cross-check run compared and where it disagreed.
#[derive(Debug, Default)]
pub struct Summary {
    /// Random cases compared.
    pub cases: usize,
    /// Numbers and strings compared.
    pub values: usize,
    /// Largest absolute difference seen between two numbers.
    pub max_difference: f64,
    /// One line per disagreement (capped in [`run`] output by the caller).
    pub mismatches: Vec<String>,
}

/// Generates `cases` random cases from `seed`, computes them here and with `script` run by
/// `python`, and compares. `Err` only when Python cannot be run or answers nonsense.
pub fn run(cases: usize, seed: u64, python: &str, script: &Path) -> Result<Summary, String> {
    let mut rng = SplitMix(seed);
    let mut summary = Summary::default();
    let mut done = 0;
    while done < cases {
        let batch: Vec<Case> = (done..cases.min(done + BATCH))
            .map(|id| Case::random(id, &mut rng))
            .collect();
        let inputs: Vec<Value> = batch.iter().map(Case::to_json).collect();
        let expected = python_reference(python, script, &json!({ "cases": inputs }))?;
        if expected.len() != batch.len() {
            return Err(format!(
                "python returned {} results for {} cases",
                expected.len(),
                batch.len()
            ));
        }
        for (case, want) in batch.iter().zip(expected) {
            let got = case.compute();
            compare(
                &format!("case {} (seed {seed})", case.id),
                &got,
                &want,
                &mut summary,
            );
            summary.cases += 1;
        }
        done += batch.len();
    }
    Ok(summary)
}

fn python_reference(python: &str, script: &Path, input: &Value) -> Result<Vec<Value>, String> {
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {python} {}: {e}", script.display()))?;
    let body = input.to_string();
    // Write from another thread so a large answer cannot deadlock against a full stdin pipe.
    let mut stdin = child.stdin.take().ok_or("python stdin unavailable")?;
    let writer = std::thread::spawn(move || stdin.write_all(body.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("python failed: {e}"))?;
    writer
        .join()
        .map_err(|_| "writer thread panicked")?
        .map_err(|e| format!("writing to python: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let answer: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("python answer is not JSON: {e}"))?;
    match answer.get("results") {
        Some(Value::Array(results)) => Ok(results.clone()),
        _ => Err("python answer has no \"results\" array".into()),
    }
}

/// A small, portable pseudo-random generator (SplitMix64), so a seed names the same cases
/// everywhere.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

struct Case {
    id: usize,
    n_classes: usize,
    y_true: Vec<usize>,
    y_pred: Vec<usize>,
    scores: Array2<f64>,
    bin_true: Vec<usize>,
    bin_scores: Array1<f64>,
    threshold: f64,
    ks: Vec<usize>,
    names: Vec<String>,
    digits: usize,
}

impl Case {
    fn random(id: usize, rng: &mut SplitMix) -> Self {
        let n_classes = 2 + rng.below(6);
        let n = match rng.below(10) {
            0 => 1 + rng.below(3),
            1 => 100 + rng.below(200),
            _ => 2 + rng.below(60),
        };
        // Degenerate label sets: a class missing from the truth, a class never predicted.
        let missing_true = rng.chance(0.3).then(|| rng.below(n_classes));
        let missing_pred = rng.chance(0.3).then(|| rng.below(n_classes));
        let draw = |rng: &mut SplitMix, avoid: Option<usize>| loop {
            let c = rng.below(n_classes);
            if Some(c) != avoid || n_classes == 1 {
                break c;
            }
        };
        let y_true: Vec<usize> = (0..n).map(|_| draw(rng, missing_true)).collect();
        let agreement = rng.unit();
        let y_pred: Vec<usize> = y_true
            .iter()
            .map(|&t| {
                if rng.chance(agreement) && Some(t) != missing_pred {
                    t
                } else {
                    draw(rng, missing_pred)
                }
            })
            .collect();

        // Probabilities from small integer weights, so equal scores (ties) are common; rows sum
        // to 1 as scikit-learn's multi-class ROC AUC requires.
        let levels = [1, 2, 4, 10, 1_000_000][rng.below(5)];
        let all_equal = rng.chance(0.08);
        let mut scores = Array2::zeros((n, n_classes));
        for mut row in scores.rows_mut() {
            for v in row.iter_mut() {
                *v = if all_equal {
                    1.0
                } else {
                    rng.below(levels + 1) as f64
                };
            }
            if row.sum() == 0.0 {
                row.fill(1.0);
            }
            let total = row.sum();
            row.mapv_inplace(|v| v / total);
        }

        let positive_rate = [0.0, 1.0, 0.1, 0.5, 0.5, 0.9][rng.below(6)];
        let bin_true: Vec<usize> = (0..n)
            .map(|_| usize::from(rng.chance(positive_rate)))
            .collect();
        let bin_levels = [1, 3, 8, 1000][rng.below(4)];
        let logits = rng.chance(0.3);
        let bin_scores: Array1<f64> = bin_true
            .iter()
            .map(|&t| {
                let base = rng.below(bin_levels + 1) as f64 / bin_levels as f64;
                // Shift positives up a little so the scores carry some signal.
                let s = (base + 0.3 * t as f64 * rng.unit()).min(1.0);
                if logits { (s - 0.5) * 8.0 } else { s }
            })
            .collect();
        let threshold = match rng.below(3) {
            0 => 0.5,
            1 => 0.0,
            _ => bin_scores[rng.below(n)],
        };
        let ks = (1..=n_classes)
            .filter(|&k| k <= 3 || k == n_classes)
            .collect();
        let names = (0..n_classes)
            .map(|c| match rng.below(4) {
                0 => format!("class {c}"),
                1 => format!("a rather long class name {c}"),
                2 => format!("é{c}"),
                _ => c.to_string(),
            })
            .collect();
        let digits = [2, 2, 3, 4][rng.below(4)];
        Self {
            id,
            n_classes,
            y_true,
            y_pred,
            scores,
            bin_true,
            bin_scores,
            threshold,
            ks,
            names,
            digits,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "n_classes": self.n_classes,
            "y_true": self.y_true,
            "y_pred": self.y_pred,
            "scores": self.scores.iter().copied().collect::<Vec<f64>>(),
            "bin_true": self.bin_true,
            "bin_scores": self.bin_scores.to_vec(),
            "threshold": self.threshold,
            "ks": self.ks,
            "names": self.names,
            "digits": self.digits,
        })
    }

    /// Every metric computed by neurite-metrics, keyed as the Python script keys them.
    fn compute(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let (y, p, c) = (&self.y_true[..], &self.y_pred[..], self.n_classes);
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_string(), value);
        };
        put("accuracy", scalar(nm::accuracy(y, p)));
        put(
            "accuracy_from_scores",
            scalar(nm::accuracy_from_scores(y, self.scores.view())),
        );
        if c >= 3 {
            for &k in &self.ks {
                put(
                    &format!("top_{k}"),
                    scalar(nm::top_k_accuracy(y, self.scores.view(), k)),
                );
            }
        }
        put(
            "binary_accuracy",
            scalar(nm::binary_accuracy(
                &self.bin_true,
                self.bin_scores.view(),
                self.threshold,
            )),
        );

        match nm::ConfusionMatrix::new(y, p, c) {
            Ok(cm) => {
                put(
                    "confusion",
                    matrix(
                        cm.counts()
                            .mapv(|v| v as f64)
                            .rows()
                            .into_iter()
                            .map(|r| r.to_vec()),
                    ),
                );
                for (key, by) in [
                    ("true", nm::Normalize::True),
                    ("pred", nm::Normalize::Pred),
                    ("all", nm::Normalize::All),
                ] {
                    let m = cm.normalized(by);
                    put(
                        &format!("confusion_{key}"),
                        matrix(m.rows().into_iter().map(|r| r.to_vec())),
                    );
                }
                let s = nm::ClassScores::from_confusion(&cm);
                put("precision", floats(&s.precision));
                put("recall", floats(&s.recall));
                put("f1", floats(&s.f1));
                put(
                    "support",
                    floats(&s.support.iter().map(|&v| v as f64).collect::<Vec<_>>()),
                );
                for (key, avg) in [
                    ("macro", nm::Average::Macro),
                    ("weighted", nm::Average::Weighted),
                    ("micro", nm::Average::Micro),
                ] {
                    let a = s.average(avg);
                    put(&format!("precision_{key}"), num(a.precision));
                    put(&format!("recall_{key}"), num(a.recall));
                    put(&format!("f1_{key}"), num(a.f1));
                    put(
                        &format!("precision_score_{key}"),
                        scalar(nm::precision_score(y, p, c, avg)),
                    );
                    put(
                        &format!("recall_score_{key}"),
                        scalar(nm::recall_score(y, p, c, avg)),
                    );
                    put(
                        &format!("f1_score_{key}"),
                        scalar(nm::f1_score(y, p, c, avg)),
                    );
                }
            }
            Err(e) => put("confusion", error(&e)),
        }
        put(
            "report",
            match nm::classification_report(y, p, &self.names, self.digits) {
                Ok(text) => Value::String(text),
                Err(e) => error(&e),
            },
        );

        let (by, bs) = (&self.bin_true[..], self.bin_scores.view());
        put(
            "roc",
            match nm::roc_curve(by, bs) {
                Ok(r) => {
                    json!({ "fpr": floats(&r.fpr), "tpr": floats(&r.tpr), "thresholds": floats(&r.thresholds) })
                }
                Err(e) => undefined_or_error(&e),
            },
        );
        put("roc_auc", scalar(nm::roc_auc_score(by, bs)));
        put(
            "pr",
            match nm::precision_recall_curve(by, bs) {
                Ok(r) => {
                    json!({ "precision": floats(&r.precision), "recall": floats(&r.recall), "thresholds": floats(&r.thresholds) })
                }
                Err(e) => error(&e),
            },
        );
        put(
            "average_precision",
            scalar(nm::average_precision_score(by, bs)),
        );
        // The same binary metrics from f32 scores must agree when the scores are exact in f32.
        let bs32 = bs.mapv(|v| v as f32);
        if bs32.iter().zip(bs.iter()).all(|(&a, &b)| f64::from(a) == b) {
            put("roc_auc_f32", scalar(nm::roc_auc_score(by, bs32.view())));
            put(
                "average_precision_f32",
                scalar(nm::average_precision_score(by, bs32.view())),
            );
        }

        for (key, avg) in [
            ("macro", nm::Average::Macro),
            ("weighted", nm::Average::Weighted),
            ("micro", nm::Average::Micro),
        ] {
            put(
                &format!("roc_auc_ovr_{key}"),
                scalar(nm::roc_auc_ovr(y, self.scores.view(), avg)),
            );
            put(
                &format!("ap_ovr_{key}"),
                scalar(nm::average_precision_ovr(y, self.scores.view(), avg)),
            );
        }
        out
    }
}

/// A float as the Python script encodes it.
fn num(v: f64) -> Value {
    if v.is_nan() {
        json!("nan")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        json!(v)
    }
}

fn floats(values: &[f64]) -> Value {
    Value::Array(values.iter().map(|&v| num(v)).collect())
}

fn matrix(rows: impl Iterator<Item = Vec<f64>>) -> Value {
    Value::Array(rows.map(|r| floats(&r)).collect())
}

/// `Undefined` is scikit-learn's NaN (null on both sides); any other error cannot match.
fn undefined_or_error(e: &nm::MetricError) -> Value {
    match e {
        nm::MetricError::Undefined { .. } => Value::Null,
        other => error(other),
    }
}

fn error(e: &nm::MetricError) -> Value {
    json!({ "rust error": e.to_string() })
}

fn scalar(result: nm::Result<f64>) -> Value {
    match result {
        Ok(v) => num(v),
        Err(e) => undefined_or_error(&e),
    }
}

/// Decodes the string forms of non-finite floats.
fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "inf" => Some(f64::INFINITY),
        Value::String(s) if s == "-inf" => Some(f64::NEG_INFINITY),
        Value::String(s) if s == "nan" => Some(f64::NAN),
        _ => None,
    }
}

fn compare_values(at: &str, got: &Value, want: &Value, summary: &mut Summary) {
    match (got, want) {
        (Value::Null, Value::Null) => summary.values += 1,
        (Value::String(g), Value::String(w))
            if as_float(got).is_none() && as_float(want).is_none() =>
        {
            summary.values += 1;
            if g != w {
                summary.mismatches.push(format!(
                    "{at}: text differs\n--- rust\n{g}--- scikit-learn\n{w}"
                ));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                summary.mismatches.push(format!(
                    "{at}: {} entries, scikit-learn has {}: {got} vs {want}",
                    g.len(),
                    w.len()
                ));
                return;
            }
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                compare_values(&format!("{at}[{i}]"), g, w, summary);
            }
        }
        (Value::Object(g), Value::Object(_)) => compare(at, g, want, summary),
        _ => match (as_float(got), as_float(want)) {
            (Some(g), Some(w)) => {
                summary.values += 1;
                let same = (g == w) || (g.is_nan() && w.is_nan());
                let diff = (g - w).abs();
                if !same {
                    if diff.is_finite() {
                        summary.max_difference = summary.max_difference.max(diff);
                    }
                    if diff.is_nan() || diff > TOLERANCE {
                        summary
                            .mismatches
                            .push(format!("{at}: rust {g:e}, scikit-learn {w:e}"));
                    }
                }
            }
            _ => summary
                .mismatches
                .push(format!("{at}: rust {got}, scikit-learn {want}")),
        },
    }
}

fn compare(at: &str, got: &Map<String, Value>, want: &Value, summary: &mut Summary) {
    let Value::Object(want) = want else {
        summary.mismatches.push(format!(
            "{at}: scikit-learn answer is not an object: {want}"
        ));
        return;
    };
    for (key, w) in want {
        // f32 variants are compared against the f64 reference of the same name.
        match got.get(key) {
            Some(g) => compare_values(&format!("{at}.{key}"), g, w, summary),
            None => summary
                .mismatches
                .push(format!("{at}.{key}: missing on the rust side")),
        }
        if let Some(g) = got.get(&format!("{key}_f32")) {
            compare_values(&format!("{at}.{key}_f32"), g, w, summary);
        }
    }
    for key in got.keys() {
        if !want.contains_key(key) && !key.ends_with("_f32") {
            summary
                .mismatches
                .push(format!("{at}.{key}: missing on the scikit-learn side"));
        }
    }
}
