//! `cargo xtask train-mnist`: train a reference model on MNIST or Fashion-MNIST, evaluate it on
//! the test set, and write the model, its ONNX export, the figures and an HTML report.
//!
//! With no flags it always finishes: when MNIST is neither on disk nor downloadable it trains on
//! the bundled sample and says so (see [`data`]). Each run gets a fresh directory with `run.json`
//! (command and resolved settings). Ctrl-C stops after the current batch, saves everything, and
//! exits with status 130. `--resume DIR` continues an earlier run (see [`resume`]).

mod args;
mod compile;
mod data;
mod figures;
mod outputs;
mod report;
mod resume;
mod run_info;
mod status;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use ndarray::Ix2;
use neurite::data::{FULL_MNIST_COMMAND, MNIST};
use neurite::layers::models;
use neurite::losses::{CategoricalCrossentropy, SparseCategoricalCrossentropy};
use neurite::metrics::streaming::{Accuracy, StreamingMetric};
use neurite::metrics::{self, Average, ClassScores, ConfusionMatrix};
use neurite::train::{FitConfig, Verbosity};
use serde_json::json;

pub use args::Args;
use args::{DEFAULT_EPOCHS, DatasetKind, ModelKind, OptimizerKind, default_out, settings};
use compile::{compile_or_load, optimizer};
use figures::{averages, format_confusion, plots};

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

/// [`neurite::io::write_atomic`] with its error in the run's `anyhow` chain.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(neurite::io::write_atomic(path, bytes)?)
}
