//! Reading the tensors, the optimizer state and the random-stream positions of a model file,
//! each checked (type, shape, checksum, owner) before it is decoded.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::IxDyn;
use neurite_layers::Sequential;
use neurite_optim::OptimizerState;
use neurite_tensor::{Float, Tensor};
use safetensors::tensor::{Dtype, SafeTensors};

use super::checksum::Digests;
use super::header::dtype_of;
use super::{
    COMPILE_KEY, EPOCHS_KEY, ModelFileError, OPTIMIZER_PREFIX, RNG_PREFIX, Result, TrainingState,
};

/// Reads tensor `name` as `F`, checking its type and (when given) its shape.
pub(super) fn read_tensor<F: Float>(
    file: &SafeTensors<'_>,
    name: &str,
    shape: Option<&[usize]>,
    digests: &Digests<'_>,
    path: &Path,
) -> Result<Tensor<F>> {
    let problem = |problem: String| ModelFileError::Tensor {
        path: path.to_path_buf(),
        tensor: name.to_string(),
        problem,
    };
    let view = file
        .tensor(name)
        .map_err(|_| problem(String::from("is missing from the file")))?;
    if view.dtype() != dtype_of::<F>() {
        return Err(problem(format!(
            "has type {:?}, expected {:?}",
            view.dtype(),
            dtype_of::<F>()
        )));
    }
    if let Some(shape) = shape
        && *view.shape() != *shape
    {
        return Err(problem(format!(
            "has shape {:?}, the architecture needs {shape:?}",
            view.shape()
        )));
    }
    digests.verify(name, view.data(), path)?;
    let values: Vec<F> = match dtype_of::<F>() {
        Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|b| {
                F::from_f64(f64::from_le_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))
            })
            .collect(),
        _ => view
            .data()
            .chunks_exact(4)
            .map(|b| F::from_f64(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
            .collect(),
    };
    Tensor::from_shape_vec(IxDyn(view.shape()), values)
        .map_err(|e| problem(format!("holds data that does not fit its shape: {e}")))
}

/// The optimizer state and the epoch count, if the file has them.
pub(super) fn read_training<F: Float>(
    file: &SafeTensors<'_>,
    meta: &BTreeMap<String, String>,
    params: &[(String, Vec<usize>)],
    digests: &Digests<'_>,
    path: &Path,
) -> Result<Option<TrainingState<F>>> {
    let Some(optimizer) = meta.get("optimizer") else {
        return Ok(None);
    };
    let format_error = |key: &str| ModelFileError::Format {
        path: path.to_path_buf(),
        reason: format!("metadata '{key}' is missing or not a number"),
    };
    let iterations = meta
        .get("optimizer.iterations")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| format_error("optimizer.iterations"))?;
    let learning_rate = meta
        .get("optimizer.learning_rate")
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format_error("optimizer.learning_rate"))?;
    let epochs_completed = match meta.get(EPOCHS_KEY) {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| format_error(EPOCHS_KEY))?),
    };
    let compile = match meta.get(COMPILE_KEY) {
        None => None,
        Some(json) => Some(
            serde_json::from_str(json).map_err(|e| ModelFileError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "metadata '{COMPILE_KEY}' is not a valid loss/optimizer/metrics record: {e}"
                ),
            })?,
        ),
    };
    let mut names: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| n.starts_with(OPTIMIZER_PREFIX))
        .collect();
    names.sort_unstable();
    let mut tensors = Vec::with_capacity(names.len());
    for full in names {
        let name = &full[OPTIMIZER_PREFIX.len()..];
        let owner = name
            .rsplit_once('/')
            .and_then(|(param, _)| params.iter().find(|(n, _)| n == param));
        let Some((_, shape)) = owner else {
            return Err(ModelFileError::Tensor {
                path: path.to_path_buf(),
                tensor: full.to_string(),
                problem: String::from("belongs to no parameter of the model"),
            });
        };
        // Slots hold one value per parameter element (momentum, velocity, ...).
        tensors.push((
            name.to_string(),
            read_tensor::<F>(file, full, Some(shape), digests, path)?,
        ));
    }
    Ok(Some(TrainingState {
        optimizer: OptimizerState {
            optimizer: optimizer.clone(),
            iterations,
            learning_rate,
            tensors,
        },
        epochs_completed,
        compile,
    }))
}

/// Puts each layer's random stream back where the file says it was (files without the keys,
/// or from before they existed, keep the streams `build` derives from the seed).
pub(super) fn restore_rng_states<F: Float>(
    model: &mut Sequential<F>,
    meta: &BTreeMap<String, String>,
    path: &Path,
) -> Result<()> {
    for (key, text) in meta.iter().filter(|(k, _)| k.starts_with(RNG_PREFIX)) {
        let layer_name = &key[RNG_PREFIX.len()..];
        let bad = |what: &str| ModelFileError::Format {
            path: path.to_path_buf(),
            reason: format!("metadata '{key}' = '{text}': {what}"),
        };
        let words: Vec<u64> = text
            .split(',')
            .map(|w| w.trim().parse::<u64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("expected six comma-separated integers"))?;
        let words: [u64; 6] = words
            .try_into()
            .map_err(|_| bad("expected six comma-separated integers"))?;
        let Some(layer) = model
            .layers_mut()
            .iter_mut()
            .find(|l| l.name() == layer_name)
        else {
            return Err(bad("no layer of that name in the architecture"));
        };
        if !layer.set_rng_state(words) {
            return Err(bad(
                "the layer has no random stream, or the state is invalid",
            ));
        }
    }
    Ok(())
}
