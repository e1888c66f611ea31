//! `cargo xtask bench <what>`: kernel and training benchmarks.
//!
//! Every figure is measured in the same run as what it is compared with: the machine's peak for
//! GEMM, the Python peers for training.

mod conv_in_place;
mod gemm;
mod peak;
mod profile;
mod train;
mod train_peer;
mod train_report;

use clap::Subcommand;

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Square sgemm (n = 64..1024) and the reference CNN's convolutions, 1 and 2 threads.
    Gemm(gemm::Args),
    /// Epoch time, throughput and test accuracy of the reference mlp and cnn on Fashion-MNIST,
    /// 1 and 2 threads, next to Keras and PyTorch when they are installed.
    Train(train::Args),
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.what {
        What::Gemm(args) => gemm::run(args),
        What::Train(args) => train::run(args),
    }
}

/// Runs `f` on a dedicated rayon pool of `threads` threads.
pub(crate) fn with_threads<T: Send>(
    threads: usize,
    f: impl FnOnce() -> T + Send,
) -> anyhow::Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    Ok(pool.install(f))
}

/// Best time per call of `f` in seconds: repeats until `budget` seconds have passed (at least
/// `min_reps` calls after one warm-up call) and keeps the fastest, which is the least disturbed
/// by other work on the machine.
pub(crate) fn best_time(budget: f64, min_reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = std::time::Instant::now();
    let mut best = f64::INFINITY;
    let mut reps = 0;
    while reps < min_reps || start.elapsed().as_secs_f64() < budget {
        let t = std::time::Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        reps += 1;
    }
    best
}
