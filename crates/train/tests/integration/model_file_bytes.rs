//! Equal models give byte-identical model files: the safetensors header is written in a fixed
//! (sorted) order, so `cmp` can tell whether two runs produced the same model.

use neurite_layers::models;
use neurite_optim::OptimizerState;
use neurite_train::model_file::{TrainingState, to_bytes};

#[test]
fn equal_models_give_identical_bytes() {
    // The CNN has Dropout (an `rng.` key) and eight tensors (their `sha256.` keys); with an
    // optimizer state the header holds 20-odd metadata entries, which a HashMap would emit in a
    // different order almost every time.
    let model = models::cnn::<f32>(3);
    let optimizer = TrainingState {
        optimizer: OptimizerState {
            optimizer: String::from("sgd"),
            iterations: 7,
            learning_rate: 0.01,
            tensors: model
                .params()
                .into_iter()
                .map(|(name, p)| (format!("{name}/momentum"), p.value().clone()))
                .collect(),
        },
        epochs_completed: Some(2),
        compile: None,
    };
    let first = to_bytes(&model, Some(&optimizer)).unwrap();
    for _ in 0..4 {
        assert!(
            to_bytes(&model, Some(&optimizer)).unwrap() == first,
            "two writes of one model differ"
        );
        assert!(to_bytes(&models::cnn::<f32>(3), None).unwrap() == to_bytes(&model, None).unwrap());
    }
    // The header's metadata keys are in sorted order.
    let n = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&first[8..8 + n]).unwrap();
    let text = std::str::from_utf8(&first[8..8 + n]).unwrap();
    let mut keys: Vec<&str> = header["__metadata__"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}
