//! `cargo xtask bench train`: epoch time, training and inference throughput, and test accuracy of
//! the reference mlp and cnn on Fashion-MNIST, with 1 and 2 threads, next to Keras and PyTorch
//! trained on the same data in the same invocation.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use neurite::data::{Dataset, FASHION_MNIST, Resolver, Split};
use neurite::layers::{Mode, models};
use neurite::losses::{CategoricalCrossentropy, SparseCategoricalCrossentropy};
use neurite::metrics::streaming::{Accuracy, StreamingMetric};
use neurite::optim::Adam;
use neurite::tensor::Tensor;
use neurite::train::{FitConfig, Model};

use super::train_peer::{self, PeerChoice, PeerRunner};
use super::train_report::{self, Measurement, Versus, median};

/// Arguments of `cargo xtask bench train`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
    /// Training epochs per run (timings use the median epoch).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Thread counts to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Reference models to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mlp,cnn")]
    models: Vec<ModelKind>,
    /// Directory holding `fashion-mnist/` with the IDX files (else NEURITE_DATA, ./data, /usr/share/datasets).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Train on the first N training images only (for quick checks, not for benchmark numbers).
    #[arg(long)]
    limit: Option<usize>,
    /// Which Python peers to run next to neurite.
    #[arg(long, value_enum, default_value_t = PeerChoice::Auto)]
    peers: PeerChoice,
    /// The peer script (default: xtask/peers/peer_train.py; its interpreter: $NEURITE_PEER_PYTHON or python3).
    #[arg(long)]
    peer_script: Option<PathBuf>,
    /// Before each neurite run, print where a training step's time goes, layer by layer.
    #[arg(long)]
    profile: bool,
}

/// The reference models of the brief, with their loss targets and batch sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModelKind {
    Mlp,
    Cnn,
}

impl ModelKind {
    fn name(self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
        }
    }

    fn network(self) -> neurite::layers::Sequential<f32> {
        match self {
            ModelKind::Mlp => models::mlp(SEED),
            ModelKind::Cnn => models::cnn(SEED),
        }
    }

    fn batch_size(self) -> usize {
        match self {
            ModelKind::Mlp => 32,
            ModelKind::Cnn => 64,
        }
    }
}

/// The same seed as the peers get, for weights, dropout and shuffling.
const SEED: u64 = 0;
/// Batch size for evaluation and inference, as in the peer script.
const EVAL_BATCH: usize = 1000;

/// Fashion-MNIST as tensors, with both label encodings (integer for the mlp, one-hot for the cnn).
struct Data {
    x_train: Tensor<f32>,
    y_train_sparse: Tensor<f32>,
    y_train_one_hot: Tensor<f32>,
    x_test: Tensor<f32>,
    y_test_sparse: Tensor<f32>,
    y_test_one_hot: Tensor<f32>,
}

impl Data {
    fn new(train: &Dataset, test: &Dataset) -> Self {
        Data {
            x_train: train.images_f32(),
            y_train_sparse: train.labels_f32(),
            y_train_one_hot: train.labels_one_hot().into_dyn(),
            x_test: test.images_f32(),
            y_test_sparse: test.labels_f32(),
            y_test_one_hot: test.labels_one_hot().into_dyn(),
        }
    }

    fn train_len(&self) -> usize {
        self.x_train.shape().first().copied().unwrap_or(0)
    }

    fn test_len(&self) -> usize {
        self.x_test.shape().first().copied().unwrap_or(0)
    }
}

/// Runs the benchmark and prints the figures.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    if args.threads.is_empty() || args.threads.contains(&0) {
        bail!(
            "--threads needs one or more counts, each at least 1 (got {:?})",
            args.threads
        );
    }
    if args.limit == Some(0) {
        bail!("--limit must be at least 1");
    }
    let mut resolver = Resolver::new();
    if let Some(dir) = &args.data {
        resolver = resolver.root(dir);
    }
    let (train, test) = load(&resolver, args.limit)?;
    let data = Data::new(&train, &test);

    let script = args
        .peer_script
        .clone()
        .unwrap_or_else(train_peer::default_script);
    let peers = train_peer::select(args.peers, &script)?;
    let runner = if peers.is_empty() {
        None
    } else {
        Some(PeerRunner {
            script,
            data: train_peer::data_dir(&resolver, &FASHION_MNIST)?,
            epochs: args.epochs,
            limit: args.limit,
            seed: SEED,
        })
    };

    let context = format!(
        "Fashion-MNIST: {} training / {} test images; {} epoch(s); peers: {}; load average {}",
        data.train_len(),
        data.test_len(),
        args.epochs,
        if peers.is_empty() {
            "none".to_string()
        } else {
            peers.join(", ")
        },
        load_average()
    );
    if args.json {
        eprintln!("{context}");
    } else {
        println!("{context}");
        println!("{}", train_report::table_header());
    }

    let mut failures = Vec::new();
    for &kind in &args.models {
        for &threads in &args.threads {
            if args.profile {
                let mut network = kind.network();
                let p = super::with_threads(threads, || {
                    super::profile::profile(&mut network, kind.batch_size(), 200, Mode::Train)
                })??;
                let title = format!(
                    "{} batch {}, {threads} thread(s)",
                    kind.name(),
                    kind.batch_size()
                );
                super::profile::print(&title, &p);
                let chunk = neurite::train::inference_chunk(&network).min(EVAL_BATCH);
                let p = super::with_threads(threads, || {
                    super::profile::profile(&mut network, chunk, 200, Mode::Infer)
                })??;
                let title = format!(
                    "{} inference, chunks of {chunk}, {threads} thread(s)",
                    kind.name()
                );
                super::profile::print(&title, &p);
            }
            eprintln!("neurite {} with {threads} thread(s)...", kind.name());
            let ours = train_neurite(kind, threads, args.epochs, &data)?;
            let mut theirs = Vec::new();
            if let Some(runner) = &runner {
                for &framework in &peers {
                    eprintln!("{framework} {} with {threads} thread(s)...", kind.name());
                    match runner.run(framework, kind.name(), threads) {
                        Ok(m) => theirs.push(m),
                        Err(e) => {
                            eprintln!("warning: {e:#}");
                            failures.push(format!("{framework} {} {threads}", kind.name()));
                        }
                    }
                }
            }
            let versus: Vec<Versus> = theirs.iter().map(|p| ours.versus(p)).collect();
            print(&ours, &versus, args.json);
            for peer in &theirs {
                print(peer, &[], args.json);
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} peer run(s) failed ({}); see the warnings above",
            failures.len(),
            failures.join("; ")
        );
    }
    Ok(())
}

fn print(m: &Measurement, versus: &[Versus], json: bool) {
    if json {
        println!("{}", m.to_json(versus));
    } else {
        println!("{}", train_report::table_row(m, versus));
    }
}

fn load(resolver: &Resolver, limit: Option<usize>) -> anyhow::Result<(Dataset, Dataset)> {
    let hint = "install Debian's copy with `sudo apt-get install dataset-fashion-mnist`, run `cargo xtask download fashion-mnist`, or pass --data DIR with DIR/fashion-mnist/*.gz";
    let train = resolver
        .load(&FASHION_MNIST, Split::Train)
        .with_context(|| format!("Fashion-MNIST training set not available: {hint}"))?;
    let test = resolver
        .load(&FASHION_MNIST, Split::Test)
        .with_context(|| format!("Fashion-MNIST test set not available: {hint}"))?;
    let train = match limit {
        Some(n) if n < train.len() => train.split_at(n)?.0,
        _ => train,
    };
    Ok((train, test))
}

/// Trains one reference model on a dedicated pool of `threads` threads, then evaluates it and
/// times inference over the test set.
fn train_neurite(
    kind: ModelKind,
    threads: usize,
    epochs: usize,
    data: &Data,
) -> anyhow::Result<Measurement> {
    super::with_threads(threads, || {
        let metrics: Vec<Box<dyn StreamingMetric<f32>>> = vec![Box::new(Accuracy::new())];
        let optimizer = Box::new(Adam::default());
        let (mut model, y_train, y_test) = match kind {
            ModelKind::Mlp => (
                Model::compile(
                    models::mlp::<f32>(SEED),
                    SparseCategoricalCrossentropy::default(),
                    optimizer,
                    metrics,
                )?,
                &data.y_train_sparse,
                &data.y_test_sparse,
            ),
            ModelKind::Cnn => (
                Model::compile(
                    models::cnn::<f32>(SEED),
                    CategoricalCrossentropy::default(),
                    optimizer,
                    metrics,
                )?,
                &data.y_train_one_hot,
                &data.y_test_one_hot,
            ),
        };
        let config = FitConfig::new(epochs, kind.batch_size())
            .seed(SEED)
            .silent();
        let history = model.fit(&data.x_train, y_train, config)?;
        let epoch_seconds_all: Vec<f64> = history.epochs.iter().map(|e| e.seconds).collect();
        if epoch_seconds_all.len() != epochs {
            bail!(
                "training stopped after {} of {epochs} epochs: {}",
                epoch_seconds_all.len(),
                history
                    .stopped_early
                    .as_deref()
                    .unwrap_or("no reason given")
            );
        }
        let evaluation = model.evaluate(&data.x_test, y_test, EVAL_BATCH)?;
        let test_accuracy = evaluation
            .metrics
            .get("accuracy")
            .copied()
            .context("the evaluation reported no accuracy")?;

        // One warm-up pass, then the median of three, as the peers do.
        model.predict(&data.x_test, EVAL_BATCH)?;
        let mut passes = Vec::with_capacity(3);
        for _ in 0..3 {
            let start = Instant::now();
            model.predict(&data.x_test, EVAL_BATCH)?;
            passes.push(start.elapsed().as_secs_f64());
        }
        Ok(Measurement {
            model: kind.name().to_string(),
            framework: "neurite".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            threads,
            train_samples: data.train_len(),
            epoch_seconds_all,
            test_accuracy,
            inference_samples_per_sec: data.test_len() as f64 / median(&passes),
        })
    })?
}

/// The 1-, 5- and 15-minute load averages from `/proc/loadavg`, or "unknown".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}
