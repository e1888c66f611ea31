//! Tensor checksums in model files: every bit flipped inside any tensor's data is refused with
//! the tensor and the file named; files from before checksums load with a warning; edited
//! checksum metadata is refused.

use std::path::Path;

use neurite_layers::{Mode, Sequential, models};
use neurite_onnx::samples;
use neurite_optim::OptimizerState;
use neurite_tensor::Tensor;
use neurite_testing::safetensors_edit::with_metadata;
use neurite_train::model_file::{
    DIGEST_PREFIX, LoadedModel, ModelFileError, ModelFileWarning, ModelReader, TrainingState,
    to_bytes,
};
use safetensors::tensor::SafeTensors;
use sha2::{Digest, Sha256};

const PATH: &str = "dir/model.safetensors";

fn parse(bytes: &[u8]) -> Result<LoadedModel<f32>, ModelFileError> {
    ModelReader::new().parse::<f32>(bytes, Path::new(PATH))
}

/// Each tensor's name and the byte range of its data inside the file.
fn data_ranges(bytes: &[u8]) -> Vec<(String, std::ops::Range<usize>)> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let base = bytes.as_ptr() as usize;
    let mut out: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let start = view.data().as_ptr() as usize - base;
            (name, start..start + view.data().len())
        })
        .collect();
    out.sort_by_key(|(_, r)| r.start);
    out
}

fn adam_state(model: &Sequential<f32>) -> TrainingState<f32> {
    let tensors = model
        .params()
        .iter()
        .filter(|(_, p)| p.is_trainable())
        .map(|(name, p)| (format!("{name}/momentum"), p.value().mapv(|v| v * 0.5)))
        .collect();
    TrainingState {
        optimizer: OptimizerState {
            optimizer: String::from("adam"),
            iterations: 3,
            learning_rate: 1e-3,
            tensors,
        },
        epochs_completed: None,
        compile: None,
    }
}

#[test]
fn every_tensor_has_the_sha256_of_its_bytes() {
    let model = samples::every_layer::<f32>(1).unwrap();
    let bytes = to_bytes(&model, Some(&adam_state(&model))).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    let ranges = data_ranges(&bytes);
    assert!(ranges.len() > 10, "weights, statistics and optimizer slots");
    for (name, range) in &ranges {
        let want: String = Sha256::digest(&bytes[range.clone()])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(meta[&format!("{DIGEST_PREFIX}{name}")], want, "{name}");
    }
    let loaded = parse(&bytes).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// One flipped bit in every tensor, at its first, middle and last byte, with a different bit
/// each time: 3 x 8 x tensors mutated files, every one refused.
#[test]
fn a_flipped_bit_in_any_tensor_is_refused_by_name() {
    let model = samples::every_layer::<f32>(2).unwrap();
    let bytes = to_bytes(&model, Some(&adam_state(&model))).unwrap();
    let mut tried = 0;
    for (name, range) in data_ranges(&bytes) {
        let positions = [range.start, (range.start + range.end) / 2, range.end - 1];
        for at in positions {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                let err = parse(&damaged).err().unwrap_or_else(|| {
                    panic!("bit {bit} of byte {at} (tensor {name}) flipped, yet it loaded")
                });
                let text = err.to_string();
                assert!(
                    matches!(&err, ModelFileError::Tensor { tensor, .. } if *tensor == name),
                    "{text}"
                );
                assert!(text.starts_with(PATH), "{text}");
                assert!(text.contains("is corrupt"), "{text}");
                tried += 1;
            }
        }
    }
    println!("{tried} files with one flipped weight bit, all refused");
    assert!(tried >= 24 * 10);
}

/// A file written before checksums (the same file without the `sha256.*` keys) loads, predicts
/// the same, and carries exactly one warning naming the file.
#[test]
fn files_without_checksums_load_with_a_warning() {
    let mut model = models::cnn::<f32>(3);
    let bytes = to_bytes(&model, None).unwrap();
    let old = with_metadata(&bytes, |m| m.retain(|k, _| !k.starts_with(DIGEST_PREFIX)));
    let mut loaded = parse(&old).unwrap();
    assert_eq!(
        loaded.warnings,
        [ModelFileWarning::Unverified { path: PATH.into() }]
    );
    let text = loaded.warnings[0].to_string();
    assert!(
        text.starts_with(PATH) && text.contains("save the model again"),
        "{text}"
    );
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| (d[2] * d[3]) as f32 / 784.0);
    let want = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
    assert_eq!(loaded.model.forward(x.view(), Mode::Infer).unwrap(), want);
    // The plain API still loads it.
    ModelReader::new()
        .parse::<f32>(&old, Path::new(PATH))
        .unwrap();
}

#[test]
fn edited_checksum_metadata_is_refused() {
    let model = models::mlp::<f32>(0);
    let bytes = to_bytes(&model, None).unwrap();
    let dropped = with_metadata(&bytes, |m| {
        m.remove(&format!("{DIGEST_PREFIX}dense_1.bias"));
    });
    let err = parse(&dropped).err().unwrap().to_string();
    assert!(
        err.contains("'dense_1.bias' has no checksum") && err.starts_with(PATH),
        "{err}"
    );
    let stray = with_metadata(&bytes, |m| {
        m.insert(format!("{DIGEST_PREFIX}dense_9.weight"), "00".into());
    });
    let err = parse(&stray).err().unwrap().to_string();
    assert!(
        err.contains("tensor 'dense_9.weight', which the file does not hold"),
        "{err}"
    );
    let wrong = with_metadata(&bytes, |m| {
        m.insert(format!("{DIGEST_PREFIX}dense.bias"), "0".repeat(64));
    });
    let err = parse(&wrong).err().unwrap().to_string();
    assert!(err.contains("tensor 'dense.bias' is corrupt"), "{err}");
}
