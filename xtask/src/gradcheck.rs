//! `cargo xtask gradcheck [--cases N]`: the finite-difference gradient checks of the test suite
//! (every layer, every loss, the reference models end to end), with many more random cases.
//!
//! Prints one line per layer/loss: cases run, entries compared, kink skips, and the worst
//! relative error with where it occurred. Exits non-zero if any case fails.

use std::time::Instant;

use neurite::layers::gradcheck::{layer_cases, model_cases, model_check_passed};
use neurite::losses::gradcheck::loss_cases;
use neurite::tensor::gradcheck::{GradCheck, TOLERANCE};

/// Arguments of `cargo xtask gradcheck`.
#[derive(clap::Args)]
pub struct Args {
    /// Random cases per layer and per loss (whole models run a tenth of this, at least 1).
    #[arg(long, default_value_t = 100)]
    cases: u64,
    /// First seed; case `i` uses seed `seed + i`.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Only run checks whose name contains this.
    #[arg(long)]
    only: Option<String>,
}

struct Outcome {
    name: &'static str,
    cases: u64,
    report: GradCheck,
    failures: Vec<String>,
}

/// `skips_allowed`: per-layer cases construct their inputs away from kinks, so a skip there is a
/// failure; whole models may skip some steps that cross a kink somewhere inside (at most a
/// third, see `model_check_passed`).
fn run_family<E: std::fmt::Display>(
    name: &'static str,
    cases: u64,
    first_seed: u64,
    skips_allowed: bool,
    run: fn(u64) -> Result<GradCheck, E>,
) -> Outcome {
    let mut outcome = Outcome {
        name,
        cases,
        report: GradCheck::default(),
        failures: Vec::new(),
    };
    for seed in first_seed..first_seed + cases {
        match run(seed) {
            Ok(report) => {
                let passed = if skips_allowed {
                    model_check_passed(&report)
                } else {
                    report.passed() && report.skipped == 0
                };
                if !passed {
                    outcome.failures.push(format!("seed {seed}: {report}"));
                }
                outcome.report.merge(&report);
            }
            Err(e) => outcome.failures.push(format!("seed {seed}: error: {e}")),
        }
    }
    outcome
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    let started = Instant::now();
    println!(
        "gradient checks in f64, five-point central differences, pass mark: worst relative error < {TOLERANCE:.0e}"
    );
    println!(
        "{:<48} {:>6} {:>9} {:>6} {:>10}  worst at",
        "check", "cases", "entries", "skips", "worst"
    );
    let mut outcomes = Vec::new();
    let model_cases_n = (args.cases / 10).max(1);
    for case in layer_cases() {
        if wanted(case.name) {
            outcomes.push(run_family(
                case.name, args.cases, args.seed, false, case.run,
            ));
            print_line(outcomes.last().expect("just pushed"));
        }
    }
    for case in loss_cases() {
        if wanted(case.name) {
            outcomes.push(run_family(
                case.name, args.cases, args.seed, false, case.run,
            ));
            print_line(outcomes.last().expect("just pushed"));
        }
    }
    for case in model_cases() {
        if wanted(case.name) {
            outcomes.push(run_family(
                case.name,
                model_cases_n,
                args.seed,
                true,
                case.run,
            ));
            print_line(outcomes.last().expect("just pushed"));
        }
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.failures.is_empty()).collect();
    for o in &failed {
        eprintln!(
            "FAILED {} ({} of {} cases):",
            o.name,
            o.failures.len(),
            o.cases
        );
        for f in o.failures.iter().take(5) {
            eprintln!("  {f}");
        }
    }
    println!(
        "{} checks, {} failed, {:.1} s",
        outcomes.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if outcomes.is_empty() {
        anyhow::bail!("no check matches --only {:?}", args.only);
    }
    if !failed.is_empty() {
        anyhow::bail!("{} gradient checks failed", failed.len());
    }
    Ok(())
}

fn print_line(o: &Outcome) {
    let status = if o.failures.is_empty() {
        ""
    } else {
        "  FAILED"
    };
    println!(
        "{:<48} {:>6} {:>9} {:>6} {:>10.2e}  {}{status}",
        o.name, o.cases, o.report.checked, o.report.skipped, o.report.worst, o.report.worst_at
    );
}
