//! `cargo xtask download [mnist|fashion-mnist|all] [--dir DIR]`: fetch and verify datasets.
//!
//! Files land in `DIR/<dataset>/` (default: `$NEURITE_DATA`, else `./data`). A file already
//! there and valid is kept; a valid copy elsewhere on the search path (for example Debian's
//! `/usr/share/datasets/fashion-mnist/`) is reported and not downloaded again.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use neurite_data::{
    DATA_ENV, DatasetInfo, DownloadProgress, Downloader, Fetched, Resolver, dataset_named,
    sha256_file,
};

/// Arguments of `cargo xtask download`.
#[derive(clap::Args)]
pub struct Args {
    /// Which dataset: mnist, fashion-mnist or all.
    #[arg(default_value = "all", value_parser = ["mnist", "fashion-mnist", "all"])]
    dataset: String,
    /// Root directory; files go to `DIR/<dataset>/` [default: $NEURITE_DATA, else ./data].
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = args
        .dir
        .or_else(|| {
            std::env::var_os(DATA_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("data"));
    let datasets: Vec<&DatasetInfo> = match args.dataset.as_str() {
        "all" => neurite_data::DATASETS.to_vec(),
        name => vec![dataset_named(name).with_context(|| format!("unknown dataset {name}"))?],
    };
    let downloader = Downloader::new();
    let mut failures = Vec::new();
    for dataset in datasets {
        let target = root.join(dataset.name);
        for file in dataset.files {
            if let Some(elsewhere) = valid_copy_elsewhere(dataset, file, &target) {
                println!(
                    "{}/{}: valid copy at {}, not downloading",
                    dataset.name,
                    file.name,
                    elsewhere.display()
                );
                continue;
            }
            let mut bar = Bar::new(format!("{}/{}", dataset.name, file.name));
            match downloader.fetch(dataset, file, &target, &mut bar) {
                Ok(Fetched::AlreadyPresent(path)) => {
                    println!("{}: present and valid", path.display())
                }
                Ok(Fetched::Downloaded { path, url }) => println!(
                    "{}: downloaded from {url}, SHA-256 verified",
                    path.display()
                ),
                Err(e) => {
                    eprintln!("error: {e}");
                    failures.push(format!("{}/{}", dataset.name, file.name));
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} file(s) could not be fetched: {}",
            failures.len(),
            failures.join(", ")
        )
    }
}

/// A verified copy of `file` in another directory the resolver searches.
fn valid_copy_elsewhere(
    dataset: &DatasetInfo,
    file: &neurite_data::FileInfo,
    target: &Path,
) -> Option<PathBuf> {
    Resolver::new()
        .search_dirs(dataset)
        .into_iter()
        .filter(|dir| dir != target)
        .map(|dir| dir.join(file.name))
        .filter(|path| path.is_file())
        .find(|path| sha256_file(path).is_ok_and(|hex| file.sha256.contains(&hex.as_str())))
}

/// An indicatif progress bar for one file; each attempt restarts it.
pub(crate) struct Bar {
    label: String,
    bar: Option<ProgressBar>,
}

impl Bar {
    pub(crate) fn new(label: String) -> Self {
        Bar { label, bar: None }
    }
}

impl DownloadProgress for Bar {
    fn begin(&mut self, url: &str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(self.label.clone());
        bar.println(format!("fetching {url}"));
        self.bar = Some(bar);
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    fn end(&mut self, outcome: Result<(), &str>) {
        if let Some(bar) = self.bar.take() {
            match outcome {
                Ok(()) => bar.finish_and_clear(),
                Err(why) => bar.abandon_with_message(format!("{}: failed: {why}", self.label)),
            }
        }
        // Attempts that fail before the body starts are listed in the final error instead.
    }
}
