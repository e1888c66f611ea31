//! Model files: bit-identical round trips (f32 and f64, with BatchNorm statistics and optimizer
//! state), atomic writes, and clear errors for truncated, corrupt, foreign, newer, mismatched
//! and unknown-layer files. Loading never panics on damaged bytes.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use neurite_layers::{Mode, Sequential, models};
use neurite_onnx::samples;
use neurite_optim::OptimizerState;
use neurite_tensor::{Float, Rng, Tensor};
use neurite_train::model_file::{
    ModelFileError, ModelReader, NetworkFile, TrainingState, to_bytes, write,
};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

fn all_models<F: Float>() -> Vec<(&'static str, Sequential<F>)> {
    let mut list = samples::reference_models::<F>(3).unwrap();
    list.push(("xor", models::xor(4)));
    list.push(("regression", models::regression(5)));
    list
}

/// Bitwise equality of two tensors (NaN-safe, distinguishes -0.0).
fn same_bits<F: Float>(a: &Tensor<F>, b: &Tensor<F>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits())
}

fn round_trip_predicts_identically<F: Float>() {
    let dir = tempfile::tempdir().unwrap();
    for (name, mut model) in all_models::<F>() {
        let path = dir.path().join(format!("{name}.safetensors"));
        model.save(&path).unwrap();
        let mut loaded = Sequential::<F>::load(&path).unwrap();
        assert_eq!(loaded.config().unwrap(), model.config().unwrap(), "{name}");
        let (saved, back) = (model.params(), loaded.params());
        assert_eq!(saved.len(), back.len());
        for ((n1, p1), (n2, p2)) in saved.iter().zip(&back) {
            assert_eq!(n1, n2);
            assert_eq!(p1.is_trainable(), p2.is_trainable(), "{n1}");
            assert!(same_bits(p1.value(), p2.value()), "{name}: {n1} differs");
        }
        let x = samples::input_batch(&model, 4, 9).unwrap();
        let want = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
        let got = loaded.forward(x.view(), Mode::Infer).unwrap().to_owned();
        assert!(
            same_bits(&want, &got),
            "{name}: predictions differ after load"
        );
    }
}

#[test]
fn f32_models_round_trip_bit_for_bit() {
    round_trip_predicts_identically::<f32>();
}

#[test]
fn f64_models_round_trip_bit_for_bit() {
    round_trip_predicts_identically::<f64>();
}

fn optimizer_for(model: &Sequential<f32>) -> TrainingState<f32> {
    let mut rng = Rng::new(1);
    let tensors = model
        .params()
        .iter()
        .filter(|(_, p)| p.is_trainable())
        .flat_map(|(name, p)| {
            ["momentum", "velocity"].map(|slot| {
                let v = p.value().mapv(|_| rng.normal() as f32);
                (format!("{name}/{slot}"), v)
            })
        })
        .collect::<Vec<_>>();
    let mut tensors = tensors;
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    TrainingState {
        optimizer: OptimizerState {
            optimizer: String::from("adam"),
            iterations: 12_345,
            learning_rate: 0.1 + 0.2, // not a short decimal: must still round-trip exactly
            tensors,
        },
        epochs_completed: Some(4),
        compile: None,
    }
}

#[test]
fn optimizer_state_round_trips_exactly() {
    let model = samples::every_layer::<f32>(2).unwrap();
    let opt = optimizer_for(&model);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    write(&path, &model, Some(&opt)).unwrap();
    let loaded = ModelReader::new().read::<f32>(&path).unwrap();
    let training = loaded.training.expect("optimizer state present");
    assert_eq!(training.epochs_completed, Some(4));
    let back = training.optimizer;
    assert_eq!(back.optimizer, "adam");
    assert_eq!(back.iterations, 12_345);
    assert_eq!(back.learning_rate.to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(back.tensors.len(), opt.optimizer.tensors.len());
    for ((n1, t1), (n2, t2)) in opt.optimizer.tensors.iter().zip(&back.tensors) {
        assert_eq!(n1, n2);
        assert!(same_bits(t1, t2), "{n1}");
    }
    assert_eq!(loaded.model.params().len(), model.params().len());
    // `load` ignores the optimizer; a plain save has none.
    Sequential::<f32>::load(&path).unwrap();
    model.save(&path).unwrap();
    assert!(
        ModelReader::new()
            .read::<f32>(&path)
            .unwrap()
            .training
            .is_none()
    );
}

#[test]
fn optimizer_tensors_must_belong_to_parameters() {
    let model = models::xor::<f32>(0);
    let mut opt = optimizer_for(&model);
    opt.optimizer
        .tensors
        .push((String::from("nope.weight/momentum"), Tensor::zeros(vec![1])));
    let err = to_bytes(&model, Some(&opt)).unwrap_err();
    assert!(err.to_string().contains("nope.weight/momentum"), "{err}");
}

#[test]
fn unbuilt_models_cannot_be_saved_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let err = models::mlp_layers::<f32>(0).save(&path).unwrap_err();
    assert!(matches!(err, ModelFileError::Model { .. }), "{err}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn failed_writes_leave_the_target_alone() {
    let model = models::xor::<f32>(0);
    let dir = tempfile::tempdir().unwrap();
    let err = model
        .save(dir.path().join("missing").join("m.safetensors"))
        .unwrap_err();
    assert!(
        matches!(err, ModelFileError::Io { .. }) && err.to_string().contains("missing"),
        "{err}"
    );
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    assert!(model.save(&sub).is_err());
    assert!(sub.is_dir());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

fn load_bytes(bytes: &[u8]) -> Result<Sequential<f32>, ModelFileError> {
    ModelReader::new()
        .parse::<f32>(bytes, Path::new("test.safetensors"))
        .map(|loaded| loaded.model)
}

#[test]
fn every_truncation_is_an_error() {
    let model = models::xor::<f32>(0);
    let bytes = to_bytes(&model, None).unwrap();
    for len in 0..bytes.len() {
        let err = load_bytes(&bytes[..len])
            .err()
            .unwrap_or_else(|| panic!("prefix {len} loaded"));
        assert!(err.to_string().contains("test.safetensors"), "{err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        load_bytes(&longer),
        Err(ModelFileError::Corrupt { .. })
    ));
    assert!(load_bytes(&bytes).is_ok());
}

#[test]
fn random_damage_never_panics() {
    let model = samples::every_layer::<f32>(0).unwrap();
    let bytes = to_bytes(&model, None).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize + 8;
    let mut rng = Rng::new(77);
    let mut refused = 0;
    for case in 0..400 {
        let mut damaged = bytes.clone();
        // Mostly hit the header (JSON), where damage changes meaning; sometimes anywhere.
        let span = if case % 4 == 0 {
            damaged.len()
        } else {
            header_len
        };
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(span as u64) as usize;
            damaged[at] = rng.below(256) as u8;
        }
        if load_bytes(&damaged).is_err() {
            refused += 1;
        }
    }
    assert!(
        refused > 100,
        "most header damage is detected ({refused}/400)"
    );
}

/// Re-serializes a model file with its tensors and metadata edited by `edit`.
fn rewrite(
    bytes: &[u8],
    edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>, &mut HashMap<String, String>),
) -> Vec<u8> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap_or_default();
    let mut tensors: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors, &mut meta);
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

#[test]
fn mismatched_files_name_the_problem() {
    let model = models::mlp::<f32>(0);
    let bytes = to_bytes(&model, None).unwrap();
    let check = |bytes: Vec<u8>, needle: &str| {
        let err = load_bytes(&bytes).expect_err("must be refused");
        assert!(
            err.to_string().contains(needle),
            "'{err}' should mention '{needle}'"
        );
    };
    check(
        rewrite(&bytes, |t, _| t.retain(|x| x.0 != "dense_1.bias")),
        "dense_1.bias",
    );
    check(
        rewrite(&bytes, |t, _| {
            let w = t.iter_mut().find(|x| x.0 == "dense.bias").unwrap();
            w.2 = vec![64];
            w.3.truncate(64 * 4);
        }),
        "has shape [64]",
    );
    check(
        rewrite(&bytes, |t, _| {
            t.push(("stray".into(), Dtype::F32, vec![1], vec![0; 4]))
        }),
        "stray",
    );
    check(
        rewrite(&bytes, |t, _| {
            let b = t.iter_mut().find(|x| x.0 == "dense.bias").unwrap();
            b.1 = Dtype::I32;
        }),
        "I32",
    );
    check(
        rewrite(&bytes, |_, m| {
            m.insert("format_version".into(), "2".into());
        }),
        "newer neurite",
    );
    check(
        rewrite(&bytes, |_, m| {
            m.insert("format_version".into(), "one".into());
        }),
        "format_version",
    );
    check(rewrite(&bytes, |_, m| m.clear()), "not a neurite model");
    check(
        rewrite(&bytes, |_, m| {
            let arch = m["architecture"].replacen("\"Dense\"", "\"LSTM\"", 1);
            m.insert("architecture".into(), arch);
        }),
        "LSTM",
    );
    check(
        rewrite(&bytes, |_, m| {
            m.insert("architecture".into(), "{\"input_shape\": [".into());
        }),
        "architecture",
    );
    // A huge layer in the header is refused by the memory limit, before any tensor is read.
    check(
        rewrite(&bytes, |_, m| {
            let arch = m["architecture"].replacen("\"units\":128", "\"units\":1000000000000", 1);
            m.insert("architecture".into(), arch);
        }),
        "Dense(1000000000000) 'dense': 785,000,000,000,000 parameters",
    );
    // An f32 file is not silently widened into an f64 model.
    let err = ModelReader::new()
        .parse::<f64>(&bytes, Path::new("m"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("Sequential<f32>"), "{err}");
}

#[test]
fn loading_a_missing_file_names_it() {
    let err = Sequential::<f32>::load("/nonexistent/model.safetensors")
        .err()
        .unwrap();
    assert!(matches!(err, ModelFileError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/model.safetensors"));
}
