//! [`ModelReader`]: parsing a model file into a [`LoadedModel`], checking everything before
//! anything large is allocated.

use std::collections::BTreeMap;
use std::path::Path;

use neurite_layers::{DEFAULT_MAX_BYTES, Sequential};
use neurite_tensor::Float;
use safetensors::tensor::SafeTensors;

use super::checksum::Digests;
use super::header::read_header;
use super::tensors::{read_tensor, read_training, restore_rng_states};
use super::{ModelFileError, ModelFileWarning, OPTIMIZER_PREFIX, Registry, Result, TrainingState};

/// A model read from a file, with its training state and what the file could not promise.
pub struct LoadedModel<F: Float> {
    /// The built model, weights loaded.
    pub model: Sequential<F>,
    /// The optimizer state and epoch count saved with it, if any.
    pub training: Option<TrainingState<F>>,
    /// Things the caller should tell the user (a file without checksums), in file order.
    pub warnings: Vec<ModelFileWarning>,
}

/// Reads neurite model files (the settings of [`super::NetworkFile::load`], made explicit).
///
/// ```
/// use neurite_layers::models;
/// use neurite_train::model_file::{ModelReader, to_bytes};
/// let bytes = to_bytes(&models::xor::<f32>(7), None).unwrap();
/// let loaded = ModelReader::new()
///     .parse::<f32>(&bytes, "xor.safetensors".as_ref())
///     .unwrap();
/// assert!(loaded.warnings.is_empty(), "every tensor carries a checksum");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ModelReader {
    max_bytes: u64,
}

impl Default for ModelReader {
    fn default() -> Self {
        ModelReader {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl ModelReader {
    /// A reader with the default settings.
    pub fn new() -> Self {
        ModelReader::default()
    }

    /// The memory limit of the models it reads (see [`Sequential::with_max_bytes`]; default
    /// [`DEFAULT_MAX_BYTES`]). An architecture over it is refused, naming the layer, before any
    /// tensor is read, and the loaded model keeps the limit.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Reads and parses the file at `path`.
    ///
    /// # Errors
    /// As [`ModelReader::parse`], and [`ModelFileError::Io`] when the file cannot be read.
    pub fn read<F: Float>(&self, path: impl AsRef<Path>) -> Result<LoadedModel<F>> {
        self.read_with(path, &Registry::new())
    }

    /// As [`ModelReader::read`], building user-defined layers with the constructors in
    /// `registry`.
    ///
    /// # Errors
    /// As [`ModelReader::read`].
    pub fn read_with<F: Float>(
        &self,
        path: impl AsRef<Path>,
        registry: &Registry<F>,
    ) -> Result<LoadedModel<F>> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.parse_with(&bytes, path, registry)
    }

    /// Parses the bytes of a model file; `path` is only used in messages.
    ///
    /// # Errors
    /// [`ModelFileError`] saying what is wrong: a truncated or corrupt file, not a neurite
    /// model, a newer format version, an unknown layer, a missing, extra or misshapen tensor,
    /// another float type than `F`, a tensor whose bytes do not match the checksum stored for
    /// it ([`ModelFileError::Tensor`]), or an architecture over the memory limit
    /// ([`ModelFileError::Layer`] with [`neurite_layers::LayerError::TooLarge`]).
    pub fn parse<F: Float>(&self, bytes: &[u8], path: &Path) -> Result<LoadedModel<F>> {
        self.parse_with(bytes, path, &Registry::new())
    }

    /// As [`ModelReader::parse`], building user-defined layers with the constructors in
    /// `registry`.
    ///
    /// # Errors
    /// As [`ModelReader::parse`]; a user-defined layer without a registered constructor is a
    /// [`ModelFileError::Layer`] that says to register one.
    pub fn parse_with<F: Float>(
        &self,
        bytes: &[u8],
        path: &Path,
        registry: &Registry<F>,
    ) -> Result<LoadedModel<F>> {
        let at = || path.to_path_buf();
        let file = SafeTensors::deserialize(bytes).map_err(|e| ModelFileError::Corrupt {
            path: at(),
            reason: e.to_string(),
            hint: "the file is truncated, was not fully written, or is not a safetensors file",
        })?;
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| ModelFileError::Corrupt {
                path: at(),
                reason: e.to_string(),
                hint: "the header is damaged",
            })?;
        let meta: BTreeMap<String, String> = header
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let config = read_header::<F>(&meta, path)?;
        let digests = Digests::from_meta(&meta, &file.names(), path)?;

        // Rebuild the layer list and work out every parameter's shape before allocating any
        // weights, so a file that disagrees with its own architecture is refused early.
        let layer_error = |source| ModelFileError::Layer {
            path: at(),
            source: Box::new(source),
        };
        let mut model = Sequential::with_seed(config.seed).with_max_bytes(self.max_bytes);
        for layer in &config.layers {
            model.push(registry.build_layer(layer).map_err(layer_error)?);
        }
        let shapes = model
            .output_shapes(&config.input_shape)
            .map_err(layer_error)?;
        model
            .check_size(&config.input_shape, &shapes)
            .map_err(layer_error)?;
        let expected = model.param_shapes(&config.input_shape, &shapes);
        let mut values = Vec::with_capacity(expected.len());
        for (name, shape) in &expected {
            values.push((
                name.clone(),
                read_tensor::<F>(&file, name, Some(shape), &digests, path)?,
            ));
        }
        let training = read_training::<F>(&file, &meta, &expected, &digests, path)?;
        for name in file.names() {
            let known = expected.iter().any(|(n, _)| n == name)
                || (name.starts_with(OPTIMIZER_PREFIX) && training.is_some());
            if !known {
                return Err(ModelFileError::Tensor {
                    path: at(),
                    tensor: name.to_string(),
                    problem: String::from("is not a parameter of the architecture in the file"),
                });
            }
        }

        model.build(&config.input_shape).map_err(layer_error)?;
        for (name, value) in values {
            model.set_param(&name, value).map_err(layer_error)?;
        }
        restore_rng_states(&mut model, &meta, path)?;
        let warnings = if digests.present() || file.is_empty() {
            Vec::new()
        } else {
            vec![ModelFileWarning::Unverified { path: at() }]
        };
        Ok(LoadedModel {
            model,
            training,
            warnings,
        })
    }
}
