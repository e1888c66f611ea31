//! Per-tensor SHA-256 digests in the header metadata, so that a flipped bit inside the weights
//! is refused on load instead of silently changing the model.
//!
//! Each tensor `t` gets the metadata entry `sha256.<t>` = the lowercase hex SHA-256 of its data
//! bytes exactly as stored (little-endian, row-major), so `sha256sum` over the same byte range
//! gives the same digest. Names and shapes need no digest: the architecture already fixes them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ModelFileError;

/// Prefix of the metadata keys holding a tensor's digest (`sha256.dense.weight`).
pub const DIGEST_PREFIX: &str = "sha256.";

/// Something a loaded model file could not promise, although it loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelFileWarning {
    /// The file has no tensor digests (written before neurite stored them), so damage inside
    /// the weights cannot be detected.
    Unverified {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for ModelFileWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileWarning::Unverified { path } => write!(
                f,
                "{}: the tensors carry no checksums (the file predates them), so damaged \
                 weights cannot be detected; save the model again to add them",
                path.display()
            ),
        }
    }
}

/// The metadata value stored for a tensor's bytes.
pub(super) fn digest_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digests a file declares, checked against the tensors it holds.
pub(super) struct Digests<'a> {
    /// Tensor name -> declared hex digest; empty for a file from before digests.
    by_tensor: BTreeMap<&'a str, &'a str>,
}

impl<'a> Digests<'a> {
    /// Collects the `sha256.*` entries; every one must name a tensor of the file, since a digest
    /// for a tensor that is not there means the header was edited or the file was mixed up.
    pub(super) fn from_meta(
        meta: &'a BTreeMap<String, String>,
        tensor_names: &[&str],
        path: &Path,
    ) -> Result<Self, ModelFileError> {
        let mut by_tensor = BTreeMap::new();
        for (key, value) in meta.range(DIGEST_PREFIX.to_string()..) {
            let Some(tensor) = key.strip_prefix(DIGEST_PREFIX) else {
                break;
            };
            if !tensor_names.contains(&tensor) {
                return Err(ModelFileError::Format {
                    path: path.to_path_buf(),
                    reason: format!(
                        "metadata '{key}' is a checksum of tensor '{tensor}', which the file \
                         does not hold: the header was edited or belongs to another file"
                    ),
                });
            }
            by_tensor.insert(tensor, value.as_str());
        }
        Ok(Digests { by_tensor })
    }

    /// Whether the file carries digests at all.
    pub(super) fn present(&self) -> bool {
        !self.by_tensor.is_empty()
    }

    /// Checks the bytes of tensor `name`. A file without digests passes (the caller warns); a
    /// file with digests must have one for every tensor.
    pub(super) fn verify(
        &self,
        name: &str,
        data: &[u8],
        path: &Path,
    ) -> Result<(), ModelFileError> {
        if !self.present() {
            return Ok(());
        }
        let problem = |problem: String| ModelFileError::Tensor {
            path: path.to_path_buf(),
            tensor: name.to_string(),
            problem,
        };
        let Some(&want) = self.by_tensor.get(name) else {
            return Err(problem(format!(
                "has no checksum ('{DIGEST_PREFIX}{name}') although the other tensors have one: \
                 the header was edited; restore the file from a backup or save the model again"
            )));
        };
        let got = digest_hex(data);
        if got != want {
            return Err(problem(format!(
                "is corrupt: its {} bytes have SHA-256 {got}, the header records {want}; the \
                 file was damaged after it was written (restore it from a backup or retrain)",
                data.len()
            )));
        }
        Ok(())
    }
}
