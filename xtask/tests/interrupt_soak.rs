//! Soak: short `train-mnist` runs, each sent SIGINT (what Ctrl-C sends) at a random moment
//! within the length of an uninterrupted run (the faster of two timed first, so that a cold
//! start does not stretch the window), from before the handler is installed to after the
//! outputs are written. The runs train for 30 short epochs so that training, not start-up and
//! evaluation, fills most of the window. Whatever the moment, the
//! run directory holds no temporary file, and a model file, if there is one, is complete and
//! loads. 20 runs by default; `NEURITE_SOAK_RUNS=200` for the full soak.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use neurite::layers::Sequential;
use neurite::train::model_file::NetworkFile;

/// SplitMix64: a seeded, reproducible sequence of delays.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn check_dir(out: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(out) else {
        return false; // interrupted before the directory existed
    };
    let names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let stray: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with('.') || n.ends_with(".tmp") || n.ends_with(".part"))
        .collect();
    assert!(
        stray.is_empty(),
        "{}: temporary files left: {stray:?}",
        out.display()
    );
    let model = out.join("model.safetensors");
    if model.exists() {
        Sequential::<f32>::load(&model)
            .unwrap_or_else(|e| panic!("{}: incomplete model: {e}", model.display()));
        return true;
    }
    false
}

#[test]
fn runs_interrupted_at_random_moments_leave_only_complete_models() {
    let runs: usize = std::env::var("NEURITE_SOAK_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let work = tempfile::tempdir().unwrap();
    let start = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(work.path())
            .args([
                "train-mnist",
                "--model",
                "mlp",
                "--offline",
                "--threads",
                "1",
            ])
            .args(["--limit", "600", "--batch-size", "50", "--epochs", "30"])
            .args(["--validation-split", "0"])
            .arg("--out")
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut length = u64::MAX;
    for attempt in 0..2 {
        let timed = Instant::now();
        let baseline = work.path().join(format!("uninterrupted{attempt}"));
        assert!(start(&baseline).wait().unwrap().success());
        length = length.min(timed.elapsed().as_millis().max(1) as u64);
        assert!(check_dir(&baseline));
    }

    let mut state = 14u64;
    let (mut with_model, mut exited_130) = (0, 0);
    for run in 0..runs {
        let out = work.path().join(format!("run{run}"));
        let mut child = start(&out);
        let delay = Duration::from_millis(next(&mut state) % length);
        let started = Instant::now();
        while started.elapsed() < delay {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            let sent = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        }
        let status = child.wait().unwrap();
        exited_130 += usize::from(status.code() == Some(130));
        with_model += usize::from(check_dir(&out));
    }
    println!(
        "{runs} runs sent SIGINT at random moments in 0..{length} ms: {exited_130} exited 130 \
         after saving, {with_model} left a model file (all complete), none left a temporary file"
    );
    assert!(exited_130 > 0, "some signals must land during training");
    assert!(with_model > 0, "some runs must get far enough to save");
}
