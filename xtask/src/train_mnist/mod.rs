//! `cargo xtask train-mnist`: train a reference model on MNIST or Fashion-MNIST, evaluate it on
//! the test set, and write the model, its ONNX export, the figures and an HTML report.
//!
//! With no flags it always finishes: when MNIST is neither on disk nor downloadable it trains on
//! the bundled sample and says so (see [`data`]). Each run gets a fresh directory with `run.json`
//! (command and resolved settings). Ctrl-C stops after the current batch, saves everything, and
//! exits with status 130. `--resume DIR` continues an earlier run (see [`resume`]).

mod data;
mod outputs;
mod report;
mod resume;
mod run_info;
mod status;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use ndarray::{Axis, Ix2};
use neurite::data::{DatasetInfo, FASHION_MNIST, FULL_MNIST_COMMAND, MNIST};
use neurite::layers::Sequential;
use neurite::layers::models;
use neurite::losses::{CategoricalCrossentropy, Loss, SparseCategoricalCrossentropy};
use neurite::metrics::streaming::{Accuracy, StreamingMetric};
use neurite::metrics::{self, Average, ClassScores, ConfusionMatrix, plot};
use neurite::optim::{
    Adagrad, Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use neurite::tensor::Tensor;
use neurite::train::{FitConfig, History, Model, Verbosity};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// `--epochs` when not given.
const DEFAULT_EPOCHS: usize = 5;

/// Arguments of `cargo xtask train-mnist`.
#[derive(clap::Args)]
pub struct Args {
    /// Reference model: the MLP or the CNN of the Keras tutorials.
    #[arg(long, value_enum, default_value_t = ModelKind::Cnn)]
    model: ModelKind,
    /// Dataset to train on.
    #[arg(long, value_enum, default_value_t = DatasetKind::Mnist)]
    dataset: DatasetKind,
    /// Use only this directory (its `<dataset>/`, or itself) for the IDX files, `.gz` or
    /// uncompressed. Without it: NEURITE_DATA, ./data, /usr/share/datasets, a download; for
    /// MNIST, finally the bundled 10k sample.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Never download: use files on disk, else (MNIST) the bundled sample.
    #[arg(long)]
    offline: bool,
    /// Passes over the training data [default: 5]; with --resume, the total to reach (epochs
    /// of the earlier run included).
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per step (default: 32 for mlp, 64 for cnn, as in the reference models).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate (default: 1e-3 for Adam, AdamW and RMSprop, 1e-2 for SGD and Adagrad).
    #[arg(long)]
    lr: Option<f64>,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    optimizer: OptimizerKind,
    /// Seed for initial weights, dropout and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Train on the first N training images only.
    #[arg(long)]
    limit: Option<usize>,
    /// Fraction of the training images held out for validation (the last ones, as Keras); 0 for
    /// no validation.
    #[arg(long, default_value_t = 0.1)]
    validation_split: f64,
    /// Output directory (default: a new `runs/<UTC timestamp>-<model>-<dataset>`, numbered when
    /// that exists).
    #[arg(long)]
    out: Option<PathBuf>,
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
    resume: Option<PathBuf>,
    /// For tests: behave as if Ctrl-C were pressed after this many batches.
    #[arg(long, hide = true)]
    interrupt_after_batches: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ModelKind {
    Mlp,
    Cnn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DatasetKind {
    Mnist,
    FashionMnist,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum OptimizerKind {
    Adam,
    Adamw,
    Sgd,
    Rmsprop,
    Adagrad,
}

impl ModelKind {
    fn name(self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
        }
    }
}

impl DatasetKind {
    fn info(self) -> &'static DatasetInfo {
        match self {
            DatasetKind::Mnist => &MNIST,
            DatasetKind::FashionMnist => &FASHION_MNIST,
        }
    }
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    // The run to continue comes first: its settings decide everything below.
    let resume = args
        .resume
        .as_deref()
        .map(resume::Resume::open)
        .transpose()?;
    let args = match &resume {
        Some(r) => args.with_spec(&r.spec),
        None => args,
    };
    let epochs = args.epochs.unwrap_or(DEFAULT_EPOCHS);
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("setting the thread count")?;
    }
    if !(0.0..1.0).contains(&args.validation_split) {
        bail!(
            "--validation-split must be in [0, 1) (0: no validation), got {}",
            args.validation_split
        );
    }
    let info = args.dataset.info();
    let loaded = data::load(info, args.data.as_deref(), args.offline)?;
    let notice = loaded.source.notice();
    if let Some(text) = &notice {
        announce(text);
    }
    let (train, test) = (limit(loaded.train, args.limit)?, loaded.test);
    let train_data = resume::TrainData::of(&train);
    if let Some(r) = &resume {
        r.check_data(&train_data)?;
    }

    let network = match args.model {
        ModelKind::Mlp => models::mlp::<f32>(args.seed),
        ModelKind::Cnn => models::cnn::<f32>(args.seed),
    };
    let optimizer = optimizer(args.optimizer, args.lr)?;
    let metrics: Vec<Box<dyn StreamingMetric<f32>>> = vec![Box::new(Accuracy::new())];
    let model_file = resume
        .as_ref()
        .map(|r| (r.dir.as_path(), r.model_file.as_path()));
    // The reference models differ in their targets: integer labels for the mlp, one-hot for the cnn.
    let (mut model, y_train, y_test) = match args.model {
        ModelKind::Mlp => (
            compile_or_load(
                network,
                SparseCategoricalCrossentropy::default(),
                optimizer,
                metrics,
                model_file,
            )?,
            train.labels_f32(),
            test.labels_f32(),
        ),
        ModelKind::Cnn => (
            compile_or_load(
                network,
                CategoricalCrossentropy::default(),
                optimizer,
                metrics,
                model_file,
            )?,
            train.labels_one_hot().into_dyn(),
            test.labels_one_hot().into_dyn(),
        ),
    };
    let completed = model.epochs_completed();
    if let Some(r) = &resume {
        r.check_epochs(epochs, completed)?;
        if r.interrupted {
            announce(&format!(
                "{} was interrupted during epoch {}: its model holds part of that epoch's \
                 training. This run trains epoch {} again from its first batch on those weights, \
                 so the result is not bit-identical to a run that was never interrupted.",
                r.dir.display(),
                completed + 1,
                completed + 1
            ));
        }
        if r.history.is_none() {
            announce(&format!(
                "{} has no readable history.json: this run's history covers epochs {} to {epochs} only.",
                r.dir.display(),
                completed + 1
            ));
        }
    }
    let batch_size = args.batch_size.unwrap_or(match args.model {
        ModelKind::Mlp => 32,
        ModelKind::Cnn => 64,
    });

    let out = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => run_info::claim_fresh_dir(&default_out(args.model.name(), info.name))?,
    };
    eprintln!(
        "{}: {} training images, {} test images; {} threads; writing to {}",
        info.name,
        train.len(),
        test.len(),
        rayon::current_num_threads(),
        out.display()
    );
    if let Some(r) = &resume {
        eprintln!(
            "resuming {} after epoch {completed}: epochs {} to {epochs}",
            r.dir.display(),
            completed + 1
        );
    }
    println!("{}", model.network().summary()?);

    // Ctrl-C stops after the current batch; everything learnt so far is still evaluated and saved.
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupt);
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130); // a second Ctrl-C quits at once
        }
        eprintln!(
            "\ninterrupted: finishing the current batch, then saving (Ctrl-C again to quit now)"
        );
    })
    .context("installing the Ctrl-C handler")?;

    let mut settings = settings(
        &args,
        epochs,
        info.name,
        &loaded.source,
        train.len(),
        batch_size,
        model.optimizer(),
    );
    if let Some(r) = &resume {
        settings.push((
            "resumed from".into(),
            format!("{} after epoch {completed}", r.dir.display()),
        ));
    }
    let spec = resume::Spec {
        model: args.model,
        dataset: args.dataset,
        epochs,
        batch_size,
        optimizer: args.optimizer,
        lr: args.lr,
        seed: args.seed,
        limit: args.limit,
        validation_split: args.validation_split,
    };
    let resumed_from = resume.as_ref().map(|r| {
        json!({"dir": r.dir.display().to_string(), "epochs_completed": completed, "interrupted": r.interrupted})
    });
    let run_json = |outcome: serde_json::Value| {
        json!({
            "command": run_info::command_line(),
            "argv": std::env::args().collect::<Vec<_>>(),
            "neurite_version": run_info::version(),
            "git_commit": run_info::git_commit(),
            "cpu": run_info::cpu_model(),
            "cores": run_info::cores(),
            "settings": settings
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<serde_json::Map<_, _>>(),
            "spec": spec,
            "train_data": train_data,
            "resumed_from": resumed_from,
            "out": out.display().to_string(),
            "data_source": loaded.source.kind(),
            "notice": notice,
            "outcome": outcome,
        })
    };
    // Written first so that even a run that fails midway documents what it was.
    write_atomic(
        &out.join("run.json"),
        serde_json::to_string_pretty(&run_json(json!("running")))?.as_bytes(),
    )?;

    let x_train = train.images_f32();
    let mut config = FitConfig::default()
        .epochs(epochs)
        .batch_size(batch_size)
        .initial_epoch(completed)
        .seed(args.seed)
        .verbosity(Verbosity::Auto)
        .interrupt(Arc::clone(&interrupt));
    if args.validation_split > 0.0 {
        config = config.validation_split(args.validation_split);
    }
    if let Some(batches) = args.interrupt_after_batches {
        config = config.callback(status::InterruptAfter::new(batches, Arc::clone(&interrupt)));
    }
    let mut history = model.fit(&x_train, &y_train, config)?;
    // The f32 training images are the largest buffer of the run (188 MB for 60k): freed before
    // the test set is converted and evaluated, they do not add to the peak.
    drop(x_train);
    if let Some(mut earlier) = resume.as_ref().and_then(|r| r.earlier_epochs(completed)) {
        earlier.epochs.append(&mut history.epochs);
        history.epochs = earlier.epochs;
    }
    let interrupted = interrupt.load(Ordering::Relaxed);
    let run_status = status::RunStatus::new(epochs, &history, interrupted);
    let status = run_status.text();
    if interrupted || history.stopped_early.is_some() {
        eprintln!("{status}");
    }

    let x_test = test.images_f32();
    let evaluation = model.evaluate(&x_test, &y_test, 1000)?;
    let probabilities = model.predict(&x_test, 1000)?.into_dimensionality::<Ix2>()?;
    let labels: Vec<usize> = test.labels().iter().map(|&l| usize::from(l)).collect();
    let predicted = metrics::predicted_classes(probabilities.view());
    let names: Vec<&str> = info.class_names.to_vec();
    let report_text = metrics::classification_report(&labels, &predicted, &names, 4)?;
    let cm = ConfusionMatrix::new(&labels, &predicted, names.len())?;
    let test_accuracy = evaluation
        .metrics
        .get("accuracy")
        .copied()
        .unwrap_or(f64::NAN);
    println!(
        "\ntest loss {:.4}, test accuracy {:.4}\n",
        evaluation.loss, test_accuracy
    );
    println!("{report_text}");
    println!(
        "confusion matrix (rows: true class, columns: predicted)\n{}",
        format_confusion(&cm, &names)
    );

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let network = model.network();
    let mut outputs = outputs::Outputs::new(&out);
    outputs.write("model.safetensors", || {
        Ok(model.save(out.join("model.safetensors"))?)
    })?;
    outputs.write("model.onnx", || {
        Ok(neurite::onnx::export(
            network,
            out.join("model.onnx"),
            neurite::onnx::ExportOptions::default(),
        )?)
    })?;
    outputs.write("history.json", || {
        write_atomic(
            &out.join("history.json"),
            status::history_json(&history, &run_status)?.as_bytes(),
        )
    })?;
    let scores = ClassScores::from_confusion(&cm);
    let auc = metrics::roc_auc_ovr(&labels, probabilities.view(), Average::Macro).ok();
    let metrics_json = json!({
        "dataset": info.name, "model": args.model.name(),
        "test_loss": evaluation.loss, "test_accuracy": test_accuracy, "roc_auc_ovr_macro": auc,
        "macro": averages(&scores, Average::Macro), "weighted": averages(&scores, Average::Weighted),
        "per_class": (0..names.len()).map(|c| {
            let s = scores.class(c).unwrap_or(metrics::Scores { precision: f64::NAN, recall: f64::NAN, f1: f64::NAN });
            json!({"class": names[c], "precision": s.precision, "recall": s.recall, "f1": s.f1, "support": cm.support()[c]})
        }).collect::<Vec<_>>(),
        "confusion_matrix": cm.counts().outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "stopped_early": history.stopped_early,
        "interrupted": interrupted,
        "status": run_status.to_json(),
        "data": {
            "source": loaded.source.kind(),
            "description": loaded.source.describe(),
            "train_images": train.len(),
            "test_images": test.len(),
            "notice": notice,
            "full_dataset_command": (info.name == MNIST.name).then_some(FULL_MNIST_COMMAND),
        },
    });
    outputs.write("metrics.json", || {
        write_atomic(
            &out.join("metrics.json"),
            serde_json::to_string_pretty(&metrics_json)?.as_bytes(),
        )
    })?;

    let figures = outputs.write("plots (*.svg, misclassified.png)", || {
        plots(
            &out,
            args.validation_split > 0.0,
            &history,
            &cm,
            &names,
            &labels,
            &predicted,
            &probabilities,
            &x_test,
        )
    })?;
    let epochs: Vec<[Option<f64>; 7]> = history
        .epochs
        .iter()
        .map(|e| {
            [
                Some(e.epoch as f64),
                Some(e.loss),
                e.get("accuracy"),
                e.val_loss,
                e.get("val_accuracy"),
                Some(e.learning_rate),
                Some(e.seconds),
            ]
        })
        .collect();
    let results = vec![
        ("test accuracy".to_string(), format!("{test_accuracy:.4}")),
        ("test loss".to_string(), format!("{:.4}", evaluation.loss)),
        (
            "ROC AUC (one-vs-rest, macro)".to_string(),
            auc.map_or("-".into(), |a| format!("{a:.4}")),
        ),
        (
            "macro F1".to_string(),
            format!("{:.4}", scores.average(Average::Macro).f1),
        ),
    ];
    let summary = network.summary()?.to_string();
    let wall = started.elapsed().as_secs_f64();
    let mut run_rows = vec![
        (
            "neurite".to_string(),
            format!(
                "{} at commit {}",
                run_info::version(),
                run_info::git_commit()
            ),
        ),
        ("command".to_string(), run_info::command_line()),
        ("status".to_string(), status.clone()),
        ("total wall time".to_string(), format!("{wall:.1} s")),
        (
            "CPU".to_string(),
            format!(
                "{} ({} logical cores)",
                run_info::cpu_model(),
                run_info::cores()
            ),
        ),
    ];
    run_rows.extend(settings.iter().cloned());
    let notices: Vec<String> = notice
        .iter()
        .cloned()
        .chain(interrupted.then(|| status.clone()))
        .collect();
    let html = report::render(&report::Report {
        title: &format!("neurite {} on {}", args.model.name(), info.name),
        notices: &notices,
        settings: &run_rows,
        summary: &summary,
        epochs: &epochs,
        results: &results,
        classification_report: &report_text,
        figures: &figures,
    })?;
    outputs.write("report.html", || {
        write_atomic(&out.join("report.html"), html.as_bytes())
    })?;
    outputs.write("run.json", || {
        write_atomic(
            &out.join("run.json"),
            serde_json::to_string_pretty(&run_json(json!({
                "status": status,
                "interrupted": interrupted,
                // Whole epochs only: what a --resume of this directory continues after.
                "epochs_completed": model.epochs_completed(),
                "wall_seconds": started.elapsed().as_secs_f64(),
                "test_accuracy": test_accuracy,
            })))?
            .as_bytes(),
        )
    })?;
    println!(
        "wrote model.safetensors, model.onnx, run.json, history.json, metrics.json, plots and report.html to {}",
        out.display()
    );
    if let Some(text) = &notice {
        announce(text);
    }
    if interrupted {
        // As command-line tools do after SIGINT, once everything is saved.
        std::process::exit(130);
    }
    Ok(())
}

/// Prints `text` set apart from the training output, so nobody misses it.
fn announce(text: &str) {
    let rule = "=".repeat(78);
    eprintln!("\n{rule}\nNOTE: {text}\n{rule}\n");
}

/// The first `limit` images of `train` (all of them without `--limit`).
fn limit(
    train: neurite::data::Dataset,
    limit: Option<usize>,
) -> anyhow::Result<neurite::data::Dataset> {
    Ok(match limit {
        Some(0) => bail!("--limit must be at least 1"),
        Some(n) if n < train.len() => train.split_at(n)?.0,
        _ => train,
    })
}

impl Args {
    /// These arguments with the training settings of the run being resumed (clap has already
    /// refused those flags next to --resume; the rest, --epochs included, are kept).
    fn with_spec(self, spec: &resume::Spec) -> Args {
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

/// `network` compiled with `loss`; or, when resuming (`file` = the run directory and its model
/// file), the model, optimizer state and epoch count from the file, which must hold `network`'s
/// architecture.
fn compile_or_load(
    network: Sequential<f32>,
    loss: impl Loss<f32> + 'static,
    optimizer: Box<dyn Optimizer<f32>>,
    metrics: Vec<Box<dyn StreamingMetric<f32>>>,
    file: Option<(&Path, &Path)>,
) -> anyhow::Result<Model<f32>> {
    let Some((dir, path)) = file else {
        let builder = Model::new(network).loss(loss).boxed_optimizer(optimizer);
        let builder = metrics.into_iter().fold(builder, |b, m| b.boxed_metric(m));
        return Ok(builder.compile()?);
    };
    let model = Model::load(path, loss, optimizer, metrics).with_context(|| {
        format!(
            "--resume {}: cannot continue from {}",
            dir.display(),
            path.display()
        )
    })?;
    if model.network().config()? != network.config()? {
        bail!(
            "--resume {}: {} holds another architecture than the run's settings in run.json              describe (a model file copied in from another run?)",
            dir.display(),
            path.display()
        );
    }
    Ok(model)
}

fn optimizer(kind: OptimizerKind, lr: Option<f64>) -> anyhow::Result<Box<dyn Optimizer<f32>>> {
    Ok(match kind {
        OptimizerKind::Adam => Box::new(Adam::with_learning_rate(lr.unwrap_or(1e-3))?),
        OptimizerKind::Adamw => Box::new(Adam::new(AdamConfig {
            learning_rate: lr.unwrap_or(1e-3).into(),
            ..AdamConfig::adamw()
        })?),
        OptimizerKind::Sgd => Box::new(Sgd::new(SgdConfig {
            learning_rate: lr.unwrap_or(1e-2).into(),
            ..SgdConfig::default()
        })?),
        OptimizerKind::Rmsprop => Box::new(RmsProp::new(RmsPropConfig {
            learning_rate: lr.unwrap_or(1e-3).into(),
            ..RmsPropConfig::default()
        })?),
        OptimizerKind::Adagrad => Box::new(Adagrad::new(neurite::optim::AdagradConfig {
            learning_rate: lr.unwrap_or(1e-2).into(),
            ..Default::default()
        })?),
    })
}

fn averages(scores: &ClassScores, average: Average) -> serde_json::Value {
    let s = scores.average(average);
    json!({"precision": s.precision, "recall": s.recall, "f1": s.f1})
}

/// The confusion matrix as an aligned text table.
fn format_confusion(cm: &ConfusionMatrix, names: &[&str]) -> String {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(5);
    let mut text = format!("{:>width$} ", "");
    for c in 0..names.len() {
        text.push_str(&format!("{c:>6}"));
    }
    text.push('\n');
    for (r, row) in cm.counts().outer_iter().enumerate() {
        text.push_str(&format!("{:>width$} ", names[r]));
        for v in row {
            text.push_str(&format!("{v:>6}"));
        }
        text.push('\n');
    }
    text
}

#[allow(clippy::too_many_arguments)]
fn plots(
    out: &Path,
    validation: bool,
    history: &History,
    cm: &ConfusionMatrix,
    names: &[&str],
    labels: &[usize],
    predicted: &[usize],
    probabilities: &ndarray::Array2<f32>,
    x_test: &Tensor<f32>,
) -> anyhow::Result<Vec<report::Figure>> {
    let curve = |name: &str| {
        let train = plot::Curves::new(name, history.series(name));
        if validation {
            train.with_validation(history.series(&format!("val_{name}")))
        } else {
            train
        }
    };
    let curves = [curve("loss"), curve("accuracy")];
    let path = out.join("training_curves.svg");
    plot::training_curves(&curves, &path, (900, 420))?;
    let caption = if validation {
        "Training curves (train and validation)"
    } else {
        "Training curves (train only: no validation, --validation-split 0)"
    };
    let mut figures = vec![report::Figure {
        caption: caption.into(),
        path,
    }];
    let path = out.join("confusion_matrix.svg");
    plot::confusion_matrix(cm, names, &path, (720, 680))?;
    figures.push(report::Figure {
        caption: "Confusion matrix (test set)".into(),
        path,
    });
    let path = out.join("roc_curves.svg");
    plot::roc_curves(labels, probabilities.view(), names, &path, (720, 560))?;
    figures.push(report::Figure {
        caption: "ROC curves, one class against the rest (test set)".into(),
        path,
    });
    let path = out.join("precision_recall_curves.svg");
    plot::precision_recall_curves(labels, probabilities.view(), names, &path, (720, 560))?;
    figures.push(report::Figure {
        caption: "Precision-recall curves (test set)".into(),
        path,
    });
    // Images [N, 1, 28, 28] -> [N, 28, 28] for the grid of mistakes.
    let images = x_test
        .view()
        .index_axis_move(Axis(1), 0)
        .into_dimensionality::<ndarray::Ix3>()?;
    let path = out.join("misclassified.png");
    if labels.iter().zip(predicted).any(|(t, p)| t != p) {
        plot::misclassified_images(images, labels, predicted, names, 36, &path, (900, 900))?;
        figures.push(report::Figure {
            caption: "Misclassified test images (true / predicted)".into(),
            path,
        });
    }
    Ok(figures)
}

/// The resolved settings of a run, as report rows (also stored in `run.json`).
fn settings(
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
fn default_out(model: &str, dataset: &str) -> PathBuf {
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

/// [`neurite::io::write_atomic`] with its error in the run's `anyhow` chain.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(neurite::io::write_atomic(path, bytes)?)
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
