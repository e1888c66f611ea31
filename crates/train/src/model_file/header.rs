//! The safetensors header of a model file: written in sorted key order, and its `format`,
//! `format_version`, `dtype` and `architecture` entries checked on reading.

use std::collections::BTreeMap;
use std::path::Path;

use neurite_layers::SequentialConfig;
use neurite_tensor::{Float, Tensor};
use safetensors::tensor::Dtype;

use super::{FORMAT_NAME, FORMAT_VERSION, ModelFileError, Result};

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
pub(super) fn sorted_header(file: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
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
pub(super) fn read_header<F: Float>(
    meta: &BTreeMap<String, String>,
    path: &Path,
) -> Result<SequentialConfig> {
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

pub(super) fn dtype_of<F: Float>() -> Dtype {
    if std::mem::size_of::<F>() == 8 {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

pub(super) fn dtype_name<F: Float>() -> &'static str {
    if std::mem::size_of::<F>() == 8 {
        "F64"
    } else {
        "F32"
    }
}

/// The values' exact bytes: `F` is f32 or f64, and both survive the trip through f64.
pub(super) fn le_bytes<F: Float>(t: &Tensor<F>) -> Vec<u8> {
    if std::mem::size_of::<F>() == 8 {
        t.iter().flat_map(|v| v.as_f64().to_le_bytes()).collect()
    } else {
        t.iter()
            .flat_map(|v| (v.as_f64() as f32).to_le_bytes())
            .collect()
    }
}
