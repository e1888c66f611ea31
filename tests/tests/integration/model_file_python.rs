//! Model files are ordinary safetensors: Python's `safetensors.numpy` reads every tensor with the
//! same name, dtype, shape and bytes, and the header metadata with the architecture.
//! Skips (with a message) when `python3` cannot import numpy and safetensors; fails under CI,
//! which installs them.

use std::process::Command;

use neurite_layers::{Sequential, SequentialConfig, models};
use neurite_tensor::Float;
use neurite_testing::{probe, require};
use neurite_train::model_file::NetworkFile;
use sha2::{Digest, Sha256};

/// Prints one line per tensor: `name<TAB>dtype<TAB>shape<TAB>sha256 of little-endian bytes`,
/// then `META<TAB>key<TAB>value` for each metadata entry.
const READER: &str = r#"
import hashlib, json, sys
from safetensors import safe_open
from safetensors.numpy import load_file
path = sys.argv[1]
for name, array in sorted(load_file(path).items()):
    data = array.astype(array.dtype.newbyteorder("<")).tobytes()
    print(name, str(array.dtype), json.dumps(list(array.shape)), hashlib.sha256(data).hexdigest(), sep="\t")
with safe_open(path, framework="np") as f:
    for key, value in sorted(f.metadata().items()):
        print("META", key, json.dumps(value), sep="\t")
"#;

fn check<F: Float>(python: &str, name: &str, model: &Sequential<F>, dtype: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.safetensors"));
    model.save(&path).unwrap();
    let out = Command::new(python)
        .args(["-c", READER])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut tensors = Vec::new();
    let mut meta = std::collections::HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields[0] == "META" {
            let value: String = serde_json::from_str(fields[2]).unwrap();
            meta.insert(fields[1].to_string(), value);
        } else {
            tensors.push(fields.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
    }
    let mut params = model.params();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(tensors.len(), params.len(), "{name}: tensor count");
    for (row, (pname, p)) in tensors.iter().zip(&params) {
        assert_eq!(&row[0], pname);
        assert_eq!(row[1], dtype, "{pname}");
        let shape: Vec<usize> = serde_json::from_str(&row[2]).unwrap();
        assert_eq!(shape, p.value().shape(), "{pname}");
        let bytes: Vec<u8> = if dtype == "float64" {
            p.value()
                .iter()
                .flat_map(|v| v.as_f64().to_le_bytes())
                .collect()
        } else {
            p.value()
                .iter()
                .flat_map(|v| (v.as_f64() as f32).to_le_bytes())
                .collect()
        };
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(row[3], digest, "{name}: {pname} bytes differ in Python");
    }
    assert_eq!(meta["format"], "neurite.sequential");
    assert_eq!(meta["format_version"], "1");
    let arch: SequentialConfig = serde_json::from_str(&meta["architecture"]).unwrap();
    assert_eq!(arch, model.config().unwrap());
    println!(
        "{name}: {} tensors identical in Python safetensors.numpy",
        tensors.len()
    );
}

#[test]
fn python_safetensors_reads_every_tensor() {
    let python = require!(
        "python_safetensors_reads_every_tensor",
        probe::python_safetensors()
    );
    check(
        &python,
        "every_layer",
        &neurite_onnx::samples::every_layer::<f32>(1).unwrap(),
        "float32",
    );
    check(&python, "cnn", &models::cnn::<f32>(2), "float32");
    check(&python, "mlp_f64", &models::mlp::<f64>(3), "float64");
}
