//! Model files: a [`Sequential`] (and optionally its optimizer's state) in one `.safetensors`
//! file that any safetensors reader can open.
//!
//! # Layout (format version 1)
//! - one tensor per parameter and per non-trainable state, under the model's own names
//!   (`dense.weight`, `batch_normalization.moving_mean`), in the model's float type (`F32` or
//!   `F64`), little-endian, row-major: exactly the bytes of the values, so a loaded model
//!   predicts bit for bit what the saved one did;
//! - header metadata (all strings): `format` = `neurite.sequential`, `format_version` = `1`,
//!   `dtype` = `F32`/`F64`, `architecture` = the [`SequentialConfig`] as JSON (input shape, seed,
//!   layer configs);
//! - optionally an optimizer: tensors `optimizer/<param>/<slot>` (e.g.
//!   `optimizer/dense.weight/momentum`) and metadata `optimizer`, `optimizer.iterations`,
//!   `optimizer.learning_rate` (an f64 printed in its shortest exact form), and
//!   `training.epochs_completed` when `fit` recorded how far it got;
//! - `sha256.<tensor>` = the lowercase hex SHA-256 of every tensor's data bytes. Loading verifies
//!   each one and names the tensor and the file when one differs; a file without them (written
//!   before they existed) still loads, with a [`ModelFileWarning`] on the [`LoadedModel`].
//!
//! The header is written with its keys in sorted order, so equal models give byte-identical
//! files. Writing goes through a temporary file in the same directory and a rename. Reading checks
//! everything (format, version, architecture, every tensor's presence, type and shape, and that
//! nothing unexpected is present) *before* building the model, so a bad file yields an error that
//! names the problem and never a partly loaded model.

mod checksum;
mod error;
mod reader;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndarray::IxDyn;
use neurite_tensor::{Float, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use checksum::Digests;

pub use checksum::{DIGEST_PREFIX, ModelFileWarning};
pub use error::ModelFileError;
pub use reader::{LoadedModel, ModelReader};

use crate::{LayerConfig, Sequential, SequentialConfig};

/// The `format` metadata value of neurite model files.
pub const FORMAT_NAME: &str = "neurite.sequential";

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Prefix of the metadata keys holding a layer's random-stream position (`rng.dropout`).
pub const RNG_PREFIX: &str = "rng.";

/// Prefix of optimizer tensors in a model file.
pub const OPTIMIZER_PREFIX: &str = "optimizer/";

/// Metadata key of the number of epochs completed (see [`SavedOptimizer::epochs_completed`]).
pub const EPOCHS_KEY: &str = "training.epochs_completed";

/// An optimizer's state as stored in a model file: what `neurite_optim::OptimizerState` holds,
/// restated here because neurite-layers does not depend on the optimizers.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedOptimizer<F: Float> {
    /// The optimizer's name (`adam`, `sgd`, ...).
    pub optimizer: String,
    /// Updates done so far.
    pub iterations: u64,
    /// The learning rate the next update would use.
    pub learning_rate: f64,
    /// Slot tensors named `<param>/<slot>` (`dense.weight/momentum`).
    pub tensors: Vec<(String, Tensor<F>)>,
    /// Epochs of training completed when the state was saved, which a resumed `fit` continues
    /// from (metadata `training.epochs_completed`); `None` when not recorded (files written
    /// before it was, or state saved outside `fit`).
    pub epochs_completed: Option<u64>,
}

type Result<T> = std::result::Result<T, ModelFileError>;

impl<F: Float> Sequential<F> {
    /// Writes the model (architecture, parameters and BatchNorm statistics) to `path` as a
    /// safetensors file; see [`crate::model_file`] for the layout. The write is atomic.
    ///
    /// ```
    /// use neurite_layers::{Mode, Sequential, models};
    /// let mut model = models::xor::<f32>(7);
    /// let path = std::env::temp_dir().join(format!("xor-doc-{}.safetensors", std::process::id()));
    /// model.save(&path).unwrap();
    /// let mut loaded = Sequential::<f32>::load(&path).unwrap();
    /// let x = ndarray::ArrayD::from_shape_vec(vec![1, 3], vec![1.0, 0.0, 1.0]).unwrap();
    /// let a = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
    /// assert_eq!(loaded.forward(x.view(), Mode::Infer).unwrap(), a);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ModelFileError::Model`] for an unbuilt model, [`ModelFileError::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        neurite_io::write_atomic(path.as_ref(), &self.to_safetensors(None)?)?;
        Ok(())
    }

    /// As [`Sequential::save`], with the optimizer's state in the same file so that training can
    /// resume exactly.
    ///
    /// # Errors
    /// As [`Sequential::save`], and [`ModelFileError::Model`] when an optimizer tensor's name
    /// is not `<param>/<slot>` for a parameter of this model.
    pub fn save_with_optimizer(
        &self,
        path: impl AsRef<Path>,
        optimizer: &SavedOptimizer<F>,
    ) -> Result<()> {
        neurite_io::write_atomic(path.as_ref(), &self.to_safetensors(Some(optimizer))?)?;
        Ok(())
    }

    /// Reads a model written by [`Sequential::save`] (an optimizer state in the file is
    /// ignored; see [`Sequential::load_with_optimizer`]).
    ///
    /// # Errors
    /// [`ModelFileError`] saying what is wrong: unreadable, truncated or corrupt file, not a
    /// neurite model, a newer format version, an unknown layer, a missing, extra or misshapen
    /// tensor, or another float type than `F`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self::load_with_optimizer(path)?.0)
    }

    /// Reads a model and, if the file has one, the optimizer state saved with it.
    ///
    /// # Errors
    /// As [`Sequential::load`].
    pub fn load_with_optimizer(
        path: impl AsRef<Path>,
    ) -> Result<(Self, Option<SavedOptimizer<F>>)> {
        let loaded = ModelReader::new().read(path)?;
        Ok((loaded.model, loaded.optimizer))
    }

    /// The bytes [`Sequential::save`] / [`Sequential::save_with_optimizer`] write.
    ///
    /// # Errors
    /// As [`Sequential::save_with_optimizer`], without the I/O.
    pub fn to_safetensors(&self, optimizer: Option<&SavedOptimizer<F>>) -> Result<Vec<u8>> {
        let model_error = |reason: String| ModelFileError::Model { reason };
        let config = self
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
        for layer in self.layers() {
            if let Some(words) = layer.rng_state() {
                let text = words
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                meta.insert(format!("{RNG_PREFIX}{}", layer.name()), text);
            }
        }
        let params = self.params();
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
        if let Some(opt) = optimizer {
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
            if let Some(epochs) = opt.epochs_completed {
                meta.insert(String::from(EPOCHS_KEY), epochs.to_string());
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

    /// Parses the bytes of a model file; `path` is only used in messages. Warnings (a file
    /// without checksums) are dropped: use [`ModelReader`] to see them.
    ///
    /// # Errors
    /// As [`Sequential::load`].
    pub fn from_safetensors(
        bytes: &[u8],
        path: &Path,
    ) -> Result<(Self, Option<SavedOptimizer<F>>)> {
        let loaded = ModelReader::new().parse(bytes, path)?;
        Ok((loaded.model, loaded.optimizer))
    }
}

/// The header of a safetensors file, with its metadata in key order.
#[derive(serde::Serialize, serde::Deserialize)]
struct SortedHeader {
    #[serde(rename = "__metadata__")]
    metadata: BTreeMap<String, String>,
    /// Tensor entries (dtype, shape, offsets), also in name order.
    #[serde(flatten)]
    tensors: BTreeMap<String, serde_json::Value>,
}

/// `file` with its header rewritten in sorted order. safetensors emits the metadata from a
/// `HashMap`, in an order that changes from one call to the next, so two equal models would give
/// different bytes and `cmp` could not tell that two runs agree. The data section is untouched
/// (its offsets are relative to its own start), and the header is padded with spaces to a
/// multiple of 8 bytes as safetensors pads it.
fn sorted_header(file: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    let bad = |e: &dyn std::fmt::Display| format!("re-sorting the safetensors header: {e}");
    let len_bytes: [u8; 8] = file
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad(&"no header length"))?;
    let end = usize::try_from(u64::from_le_bytes(len_bytes))
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&end| end <= file.len())
        .ok_or_else(|| bad(&"header length past the end"))?;
    let header: SortedHeader = serde_json::from_slice(&file[8..end]).map_err(|e| bad(&e))?;
    let mut text = serde_json::to_vec(&header).map_err(|e| bad(&e))?;
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + file.len() - end);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&file[end..]);
    Ok(out)
}

/// Checks `format`, `format_version`, `dtype` and parses `architecture`.
fn read_header<F: Float>(meta: &BTreeMap<String, String>, path: &Path) -> Result<SequentialConfig> {
    let format_error = |reason: String| ModelFileError::Format {
        path: path.to_path_buf(),
        reason,
    };
    match meta.get("format").map(String::as_str) {
        Some(FORMAT_NAME) => {}
        Some(other) => {
            return Err(format_error(format!(
                "format '{other}' is not '{FORMAT_NAME}'"
            )));
        }
        None => {
            return Err(format_error(String::from(
                "no 'format' metadata: a safetensors file, but not a neurite model file",
            )));
        }
    }
    let version = meta.get("format_version").map(String::as_str).unwrap_or("");
    match version.parse::<u32>() {
        Ok(v) if (1..=FORMAT_VERSION).contains(&v) => {}
        Ok(v) if v > FORMAT_VERSION => {
            return Err(format_error(format!(
                "format version {v} was written by a newer neurite; this build reads versions up to {FORMAT_VERSION}"
            )));
        }
        _ => return Err(format_error(format!("invalid format_version '{version}'"))),
    }
    let dtype = meta.get("dtype").map(String::as_str).unwrap_or("");
    if dtype != dtype_name::<F>() {
        return Err(format_error(format!(
            "the model was saved as {dtype}; load it as Sequential<{}>",
            if dtype == "F64" { "f64" } else { "f32" }
        )));
    }
    let json = meta
        .get("architecture")
        .ok_or_else(|| format_error(String::from("no 'architecture' metadata")))?;
    serde_json::from_str(json).map_err(|e| ModelFileError::Architecture {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The full name and shape of every parameter the built model will have.
fn expected_params<F: Float>(
    model: &Sequential<F>,
    input_shape: &[usize],
    shapes: &[Vec<usize>],
) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let inputs = std::iter::once(input_shape).chain(shapes.iter().map(Vec::as_slice));
    for (layer, input) in model.layers().iter().zip(inputs) {
        let first = input.first().copied().unwrap_or(0);
        let params: Vec<(&str, Vec<usize>)> = match layer.config() {
            LayerConfig::Dense(c) => {
                let mut p = vec![("weight", vec![c.units, first])];
                if c.use_bias {
                    p.push(("bias", vec![c.units]));
                }
                p
            }
            LayerConfig::Conv2D(c) => {
                let [kh, kw] = c.kernel_size;
                let mut p = vec![("weight", vec![c.filters, first, kh, kw])];
                if c.use_bias {
                    p.push(("bias", vec![c.filters]));
                }
                p
            }
            LayerConfig::BatchNormalization(_) => {
                ["gamma", "beta", "moving_mean", "moving_variance"]
                    .into_iter()
                    .map(|n| (n, vec![first]))
                    .collect()
            }
            LayerConfig::MaxPooling2D(_)
            | LayerConfig::AveragePooling2D(_)
            | LayerConfig::GlobalAveragePooling2D(_)
            | LayerConfig::Flatten(_)
            | LayerConfig::Reshape(_)
            | LayerConfig::Dropout(_)
            | LayerConfig::Activation(_) => Vec::new(),
        };
        out.extend(
            params
                .into_iter()
                .map(|(p, s)| (format!("{}.{p}", layer.name()), s)),
        );
    }
    out
}

/// Reads tensor `name` as `F`, checking its type and (when given) its shape.
fn read_tensor<F: Float>(
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
    if let Some(shape) = shape {
        if *view.shape() != *shape {
            return Err(problem(format!(
                "has shape {:?}, the architecture needs {shape:?}",
                view.shape()
            )));
        }
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

/// The optimizer state, if the file has one.
fn read_optimizer<F: Float>(
    file: &SafeTensors<'_>,
    meta: &BTreeMap<String, String>,
    params: &[(String, Vec<usize>)],
    digests: &Digests<'_>,
    path: &Path,
) -> Result<Option<SavedOptimizer<F>>> {
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
    Ok(Some(SavedOptimizer {
        optimizer: optimizer.clone(),
        iterations,
        learning_rate,
        tensors,
        epochs_completed,
    }))
}

fn dtype_of<F: Float>() -> Dtype {
    if std::mem::size_of::<F>() == 8 {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

fn dtype_name<F: Float>() -> &'static str {
    if std::mem::size_of::<F>() == 8 {
        "F64"
    } else {
        "F32"
    }
}

/// The values' exact bytes: `F` is f32 or f64, and both survive the trip through f64.
fn le_bytes<F: Float>(t: &Tensor<F>) -> Vec<u8> {
    if std::mem::size_of::<F>() == 8 {
        t.iter().flat_map(|v| v.as_f64().to_le_bytes()).collect()
    } else {
        t.iter()
            .flat_map(|v| (v.as_f64() as f32).to_le_bytes())
            .collect()
    }
}

/// Puts each layer's random stream back where the file says it was (files without the keys,
/// or from before they existed, keep the streams `build` derives from the seed).
fn restore_rng_states<F: Float>(
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
