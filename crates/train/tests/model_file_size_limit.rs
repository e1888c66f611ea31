//! A model file whose architecture asks for a layer nobody can allocate is refused, naming the
//! layer, before any tensor is read; the reader's memory limit applies and the loaded model
//! keeps it.
//!
//! This file holds a single test so that the allocation counter sees only the code under test.

use std::path::Path;

use neurite_layers::{Dense, LayerError, Sequential};
use neurite_testing::alloc::{LargestAllocation, largest_allocation};
use neurite_testing::safetensors_edit::with_metadata;
use neurite_train::model_file::{ModelFileError, ModelReader, to_bytes};

#[global_allocator]
static GLOBAL: LargestAllocation = LargestAllocation;

/// The model file of `model`, with its architecture JSON edited by `edit`.
fn with_architecture(model: &Sequential<f32>, edit: impl FnOnce(&str) -> String) -> Vec<u8> {
    with_metadata(&to_bytes(model, None).unwrap(), |meta| {
        let arch = edit(&meta["architecture"]);
        meta.insert("architecture".into(), arch);
    })
}

#[test]
fn an_absurd_architecture_is_refused_by_name_before_reading_tensors() {
    // A model file whose architecture asks for such a layer gets the same refusal, before any
    // tensor is read.
    let mut small_model = Sequential::<f32>::new().add(Dense::new(10));
    small_model.build(&[20]).unwrap();
    let bytes = with_architecture(&small_model, |a| {
        a.replace("\"units\":10", "\"units\":200000")
            .replace("\"input_shape\":[20]", "\"input_shape\":[200000]")
    });
    let (result, largest) = largest_allocation(|| {
        ModelReader::new()
            .parse::<f32>(&bytes, Path::new("huge.safetensors"))
            .err()
    });
    let err = result.expect("must be refused");
    let text = err.to_string();
    assert!(
        matches!(&err, ModelFileError::Layer { source, .. } if matches!(**source, LayerError::TooLarge { .. })),
        "{text}"
    );
    assert!(
        text.starts_with("huge.safetensors: Dense(200000) 'dense'"),
        "{text}"
    );
    assert!(
        largest < 64 << 10,
        "allocated {largest} bytes before refusing"
    );
    // The reader's limit applies too, and the loaded model keeps it.
    let plain = to_bytes(&small_model, None).unwrap();
    assert!(
        ModelReader::new()
            .max_bytes(100)
            .parse::<f32>(&plain, Path::new("m"))
            .is_err()
    );
    let loaded = ModelReader::new()
        .max_bytes(1 << 20)
        .parse::<f32>(&plain, Path::new("m"))
        .unwrap();
    assert_eq!(loaded.model.max_bytes(), 1 << 20);
}
