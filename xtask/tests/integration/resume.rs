//! `train-mnist --resume DIR`: a run of 1 epoch continued to 2 writes the very bytes of a run of
//! 2 epochs (model file and ONNX export) and the same history; a directory that cannot be
//! continued, or flags that would change the run, give a clear error (no panic), create no
//! output and leave DIR as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use neurite::train::model_file::NetworkFile;
use serde_json::Value;

/// `train-mnist` on the bundled sample, small and single-threaded (the MLP has Dropout, so the
/// random streams are part of what must resume exactly).
fn train_mnist(work: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(work)
        .env("RUST_BACKTRACE", "0")
        .args(["train-mnist", "--offline", "--threads", "1"])
        .args(args)
        .output()
        .unwrap()
}

/// Flags of a fresh run: 300 images (270 after the 10 % validation split) in batches of 100.
const RUN: [&str; 6] = ["--model", "mlp", "--limit", "300", "--batch-size", "100"];

fn fresh(work: &Path, epochs: &str, out: &str) -> PathBuf {
    let mut args = RUN.to_vec();
    args.extend(["--epochs", epochs, "--out", out]);
    let run = train_mnist(work, &args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    work.join(out)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The history's epochs without their wall-clock seconds.
fn epochs(dir: &Path) -> Vec<Value> {
    let mut history = json(&dir.join("history.json"));
    let epochs = history["epochs"].as_array_mut().unwrap();
    for e in epochs.iter_mut() {
        e.as_object_mut().unwrap().remove("seconds");
    }
    epochs.clone()
}

/// Every file of `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (name, bytes) in snapshot(from) {
        std::fs::write(to.join(name), bytes).unwrap();
    }
}

#[test]
fn a_resumed_run_writes_the_bytes_of_an_uninterrupted_one() {
    let work = tempfile::tempdir().unwrap();
    let straight = fresh(work.path(), "2", "straight");
    let first = fresh(work.path(), "1", "first");
    let before = snapshot(&first);
    let run = train_mnist(
        work.path(),
        &["--resume", "first", "--epochs", "2", "--out", "resumed"],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("resuming first after epoch 1"), "{stderr}");
    let resumed = work.path().join("resumed");

    for file in ["model.safetensors", "model.onnx"] {
        assert!(
            std::fs::read(straight.join(file)).unwrap()
                == std::fs::read(resumed.join(file)).unwrap(),
            "{file} of the resumed run differs from the uninterrupted run's"
        );
    }
    assert_eq!(
        epochs(&resumed),
        epochs(&straight),
        "the history covers both epochs"
    );
    assert_eq!(
        json(&resumed.join("history.json"))["status"]["text"],
        "completed 2 of 2 epochs"
    );
    let run_json = json(&resumed.join("run.json"));
    assert_eq!(run_json["resumed_from"]["epochs_completed"], 1);
    assert_eq!(run_json["spec"], {
        let mut spec = json(&straight.join("run.json"))["spec"].clone();
        spec["epochs"] = 2.into();
        spec
    });
    assert_eq!(run_json["outcome"]["epochs_completed"], 2);
    assert!(
        snapshot(&first) == before,
        "the resumed directory was changed"
    );

    // A resumed run can itself be resumed: its run.json holds the settings again.
    let run = train_mnist(
        work.path(),
        &["--resume", "resumed", "--epochs", "3", "--out", "third"],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let third: Vec<Value> = epochs(&work.path().join("third"));
    assert_eq!(
        third
            .iter()
            .map(|e| e["epoch"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn resuming_an_interrupted_run_restarts_the_cut_epoch_and_says_so() {
    let work = tempfile::tempdir().unwrap();
    // 3 batches per epoch: the 4th is the first of epoch 2.
    let mut args = RUN.to_vec();
    args.extend([
        "--epochs",
        "3",
        "--interrupt-after-batches",
        "4",
        "--out",
        "cut",
    ]);
    let run = train_mnist(work.path(), &args);
    assert_eq!(run.status.code(), Some(130));
    assert_eq!(
        json(&work.path().join("cut/run.json"))["outcome"]["epochs_completed"],
        1
    );
    let run = train_mnist(
        work.path(),
        &["--resume", "cut", "--epochs", "3", "--out", "rest"],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("was interrupted during epoch 2"),
        "{stderr}"
    );
    let numbers: Vec<u64> = epochs(&work.path().join("rest"))
        .iter()
        .map(|e| e["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [1, 2, 3],
        "the cut epoch's partial record is replaced"
    );
}

#[test]
fn directories_that_cannot_be_resumed_and_conflicting_flags_are_clear_errors() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let first = fresh(w, "1", "first");
    let before = snapshot(&first);

    std::fs::create_dir(w.join("empty")).unwrap();
    copy_dir(&first, &w.join("no-model"));
    std::fs::remove_file(w.join("no-model/model.safetensors")).unwrap();
    copy_dir(&first, &w.join("corrupt"));
    let bytes = std::fs::read(first.join("model.safetensors")).unwrap();
    std::fs::write(
        w.join("corrupt/model.safetensors"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    copy_dir(&first, &w.join("other-architecture"));
    neurite::layers::models::cnn::<f32>(0)
        .save(w.join("other-architecture/model.safetensors"))
        .unwrap();
    copy_dir(&first, &w.join("other-data"));
    let mut run_json = json(&first.join("run.json"));
    run_json["spec"]["limit"] = 200.into();
    std::fs::write(w.join("other-data/run.json"), run_json.to_string()).unwrap();

    let cases: [(&[&str], i32, &str); 9] = [
        (
            &["--resume", "missing", "--epochs", "2"],
            1,
            "--resume missing: no such directory",
        ),
        (
            &["--resume", "empty", "--epochs", "2"],
            1,
            "not a train-mnist run directory",
        ),
        (
            &["--resume", "no-model", "--epochs", "2"],
            1,
            "no model.safetensors there",
        ),
        (
            &["--resume", "corrupt", "--epochs", "2"],
            1,
            "cannot continue from corrupt/model.safetensors",
        ),
        (
            &["--resume", "other-architecture", "--epochs", "2"],
            1,
            "holds another architecture",
        ),
        (
            &["--resume", "other-data", "--epochs", "2"],
            1,
            "the training data differ from the run's",
        ),
        (
            &["--resume", "first", "--epochs", "1"],
            1,
            "--epochs 1 is not above the epochs the run has completed (1)",
        ),
        (
            &["--resume", "first", "--epochs", "2", "--seed", "3"],
            2,
            "'--resume <DIR>' cannot be used with '--seed <SEED>'",
        ),
        (&["--resume", "first"], 2, "--epochs <EPOCHS>"),
    ];
    for (args, code, message) in cases {
        let mut args = args.to_vec();
        args.extend(["--out", "out"]);
        let run = train_mnist(w, &args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{args:?}: expected `{message}` in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            !w.join("out").exists(),
            "{args:?} created its output directory"
        );
    }
    assert!(
        snapshot(&first) == before,
        "a failed resume changed the run directory"
    );
}
