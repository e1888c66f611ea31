//! A run interrupted during epoch 2 of 3 (the flag Ctrl-C raises, raised after the 4th batch by
//! the hidden `--interrupt-after-batches`) exits 130 after saving, and every output says it was
//! interrupted at epoch 2 of 3; the saved model loads.

use std::path::Path;
use std::process::Command;

use neurite::layers::Sequential;
use neurite::train::model_file::NetworkFile;
use serde_json::Value;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn an_interrupted_run_says_so_in_every_output() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("run");
    // 300 images in batches of 100: 3 batches per epoch, so the 4th is epoch 2's first.
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(work.path())
        .args([
            "train-mnist",
            "--model",
            "mlp",
            "--offline",
            "--threads",
            "1",
        ])
        .args(["--limit", "300", "--batch-size", "100", "--epochs", "3"])
        .args(["--validation-split", "0", "--interrupt-after-batches", "4"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(130),
        "exit status after an interrupt; stderr:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );

    for file in ["history.json", "metrics.json"] {
        let status = &json(&out.join(file))["status"];
        assert_eq!(status["state"], "interrupted", "{file}: {status}");
        assert_eq!(status["interrupted_at_epoch"], 2, "{file}: {status}");
        assert_eq!(status["epochs_planned"], 3, "{file}: {status}");
        assert!(
            status["text"]
                .as_str()
                .unwrap()
                .starts_with("interrupted at epoch 2 of 3"),
            "{file}: {status}"
        );
    }
    let history = json(&out.join("history.json"));
    assert_eq!(history["epochs"].as_array().unwrap().len(), 2);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("interrupted at epoch 2 of 3"));
    let run = json(&out.join("run.json"));
    assert_eq!(run["outcome"]["interrupted"], true);
    // The model saved at the interrupt is complete, and nothing temporary is left behind.
    Sequential::<f32>::load(out.join("model.safetensors")).unwrap();
    let stray: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') || name.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}
