//! Equal models give byte-identical model files: the safetensors header is written in a fixed
//! (sorted) order, so `cmp` can tell whether two runs produced the same model.

use neurite_layers::model_file::SavedOptimizer;
use neurite_layers::models;

#[test]
fn equal_models_give_identical_bytes() {
    // The CNN has Dropout (an `rng.` key) and eight tensors (their `sha256.` keys); with an
    // optimizer state the header holds 20-odd metadata entries, which a HashMap would emit in a
    // different order almost every time.
    let model = models::cnn::<f32>(3);
    let optimizer = SavedOptimizer {
        optimizer: String::from("sgd"),
        iterations: 7,
        learning_rate: 0.01,
        tensors: model
            .params()
            .into_iter()
            .map(|(name, p)| (format!("{name}/momentum"), p.value().clone()))
            .collect(),
        epochs_completed: Some(2),
    };
    let first = model.to_safetensors(Some(&optimizer)).unwrap();
    for _ in 0..4 {
        assert!(
            model.to_safetensors(Some(&optimizer)).unwrap() == first,
            "two writes of one model differ"
        );
        assert!(
            models::cnn::<f32>(3).to_safetensors(None).unwrap()
                == model.to_safetensors(None).unwrap()
        );
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
