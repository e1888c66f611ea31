//! Writing a model file: the network's tensors, its architecture and random-stream positions,
//! and optionally the training state, with a checksum per tensor and a sorted header.

use std::collections::HashMap;

use neurite_layers::Sequential;
use neurite_tensor::Float;
use safetensors::tensor::TensorView;

use super::checksum::{self, DIGEST_PREFIX};
use super::header::{dtype_name, dtype_of, le_bytes, sorted_header};
use super::{
    COMPILE_KEY, EPOCHS_KEY, FORMAT_NAME, FORMAT_VERSION, ModelFileError, OPTIMIZER_PREFIX,
    RNG_PREFIX, Result, TrainingState,
};

/// The bytes of the model file of `network`, with `training` (optimizer state, epochs) when
/// given; see [`crate::model_file`] for the layout. Equal inputs give equal bytes.
///
/// ```
/// use neurite_layers::models;
/// use neurite_train::model_file::{ModelReader, to_bytes};
/// let bytes = to_bytes(&models::xor::<f32>(7), None).unwrap();
/// let loaded = ModelReader::new().parse::<f32>(&bytes, "xor.safetensors".as_ref()).unwrap();
/// assert_eq!(to_bytes(&loaded.model, None).unwrap(), bytes);
/// ```
///
/// # Errors
/// [`ModelFileError::Model`] for an unbuilt network, a parameter named with the reserved
/// `optimizer/` prefix, or an optimizer tensor not named `<parameter>/<slot>` after a
/// parameter of this network.
pub fn to_bytes<F: Float>(
    network: &Sequential<F>,
    training: Option<&TrainingState<F>>,
) -> Result<Vec<u8>> {
    let model_error = |reason: String| ModelFileError::Model { reason };
    let config = network
        .config()
        .map_err(|e| model_error(format!("{e} (the input shape is part of the file)")))?;
    let architecture = serde_json::to_string(&config)
        .map_err(|e| model_error(format!("architecture does not serialize: {e}")))?;
    let mut meta = HashMap::from([
        (String::from("format"), String::from(FORMAT_NAME)),
        (String::from("format_version"), FORMAT_VERSION.to_string()),
        (String::from("dtype"), dtype_name::<F>().to_string()),
        (String::from("architecture"), architecture),
    ]);
    // Random streams (dropout) continue where they stopped after a load.
    for layer in network.layers() {
        if let Some(words) = layer.rng_state() {
            let text = words
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            meta.insert(format!("{RNG_PREFIX}{}", layer.name()), text);
        }
    }
    let params = network.params();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, p) in &params {
        if name.starts_with(OPTIMIZER_PREFIX) {
            return Err(model_error(format!(
                "parameter '{name}' starts with the reserved prefix '{OPTIMIZER_PREFIX}'; rename the layer"
            )));
        }
        tensors.push((
            name.clone(),
            p.value().shape().to_vec(),
            le_bytes(p.value()),
        ));
    }
    if let Some(training) = training {
        let opt = &training.optimizer;
        meta.insert(String::from("optimizer"), opt.optimizer.clone());
        meta.insert(
            String::from("optimizer.iterations"),
            opt.iterations.to_string(),
        );
        // `{:?}` prints the shortest decimal that parses back to the same f64.
        meta.insert(
            String::from("optimizer.learning_rate"),
            format!("{:?}", opt.learning_rate),
        );
        if let Some(epochs) = training.epochs_completed {
            meta.insert(String::from(EPOCHS_KEY), epochs.to_string());
        }
        if let Some(compile) = &training.compile {
            let json = serde_json::to_string(compile).map_err(|e| {
                model_error(format!(
                    "the loss, optimizer or metrics do not serialize ({e}); a custom learning-rate \
                     schedule cannot be stored: save without them (compile: None)"
                ))
            })?;
            meta.insert(String::from(COMPILE_KEY), json);
        }
        for (name, value) in &opt.tensors {
            let owner = name.rsplit_once('/').map(|(param, _)| param);
            if !owner.is_some_and(|owner| params.iter().any(|(n, _)| n == owner)) {
                return Err(model_error(format!(
                    "optimizer tensor '{name}' is not named '<parameter>/<slot>' after a parameter of this model"
                )));
            }
            tensors.push((
                format!("{OPTIMIZER_PREFIX}{name}"),
                value.shape().to_vec(),
                le_bytes(value),
            ));
        }
    }
    for (name, _, bytes) in &tensors {
        meta.insert(
            format!("{DIGEST_PREFIX}{name}"),
            checksum::digest_hex(bytes),
        );
    }
    let dtype = dtype_of::<F>();
    let mut views = Vec::with_capacity(tensors.len());
    for (name, shape, bytes) in &tensors {
        let view = TensorView::new(dtype, shape.clone(), bytes)
            .map_err(|e| model_error(format!("tensor '{name}': {e}")))?;
        views.push((name.as_str(), view));
    }
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| model_error(format!("safetensors serialization failed: {e}")))?;
    sorted_header(bytes).map_err(model_error)
}

/// Writes the model file of `network` (with `training` when given) to `path`, atomically:
/// a crash leaves the old file or the new one, never a mix.
///
/// # Errors
/// As [`to_bytes`], and [`ModelFileError::Io`] naming the path.
pub fn write<F: Float>(
    path: impl AsRef<std::path::Path>,
    network: &Sequential<F>,
    training: Option<&TrainingState<F>>,
) -> Result<()> {
    neurite_io::write_atomic(path.as_ref(), &to_bytes(network, training)?)?;
    Ok(())
}
