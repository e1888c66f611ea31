//! Writing IDX files, plain or gzip-compressed, atomically.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use ndarray::ArrayD;

use super::types::{IdxArray, IdxElement};
use crate::error::{DataError, Result};

/// How to store an IDX file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Raw bytes, as the format defines them.
    #[default]
    None,
    /// The raw bytes in a gzip stream (the way MNIST is distributed).
    Gzip,
}

/// Writes `array` to `path` as IDX (temp file + rename, so a failure leaves no partial file).
///
/// Every axis must have between 1 and `u32::MAX` elements and there must be 1 to 255 axes,
/// which is what the format can express.
///
/// ```
/// use neurite_data::{Compression, IdxArray, read_idx, write_idx};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.idx.gz");
/// let array = IdxArray::from(ndarray::arr2(&[[1.5f32, -2.0], [0.0, 3.25]]).into_dyn());
/// write_idx(&path, &array, Compression::Gzip)?;
/// assert_eq!(read_idx(&path)?, array);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_idx(path: impl AsRef<Path>, array: &IdxArray, compression: Compression) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode(array, path)?;
    neurite_io::write_atomic_with(path, |out| match compression {
        Compression::None => out.write_all(&bytes),
        Compression::Gzip => {
            let mut gz = GzEncoder::new(out, flate2::Compression::default());
            gz.write_all(&bytes)?;
            gz.finish().map(|_| ())
        }
    })?;
    Ok(())
}

/// The complete IDX bytes (header and data) of `array`, uncompressed.
///
/// `name` only labels errors.
pub fn encode_idx(array: &IdxArray, name: impl AsRef<Path>) -> Result<Vec<u8>> {
    encode(array, name.as_ref())
}

fn encode(array: &IdxArray, name: &Path) -> Result<Vec<u8>> {
    let shape = array.shape();
    let unwritable = |reason| DataError::Unwritable {
        path: name.to_path_buf(),
        shape: shape.to_vec(),
        reason,
    };
    let ndims =
        u8::try_from(shape.len()).map_err(|_| unwritable("IDX allows at most 255 dimensions"))?;
    if ndims == 0 {
        return Err(unwritable("IDX needs at least one dimension"));
    }
    let mut out = Vec::with_capacity(4 + 4 * shape.len() + array_bytes(array));
    out.extend_from_slice(&[0, 0, array.elem_type().code(), ndims]);
    for &d in shape {
        if d == 0 {
            return Err(unwritable("IDX readers reject zero-sized dimensions"));
        }
        let d = u32::try_from(d).map_err(|_| unwritable("a dimension exceeds u32::MAX"))?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    match array {
        IdxArray::U8(a) => push_all(a, &mut out),
        IdxArray::I8(a) => push_all(a, &mut out),
        IdxArray::I16(a) => push_all(a, &mut out),
        IdxArray::I32(a) => push_all(a, &mut out),
        IdxArray::F32(a) => push_all(a, &mut out),
        IdxArray::F64(a) => push_all(a, &mut out),
    }
    Ok(out)
}

fn array_bytes(array: &IdxArray) -> usize {
    array
        .shape()
        .iter()
        .product::<usize>()
        .saturating_mul(array.elem_type().size())
}

/// Appends the elements in logical (row-major) order, whatever the array's memory layout.
fn push_all<T: IdxElement>(array: &ArrayD<T>, out: &mut Vec<u8>) {
    for &x in array.iter() {
        x.push_be(out);
    }
}
