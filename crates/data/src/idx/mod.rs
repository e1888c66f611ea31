//! The IDX file format (LeCun et al., used by MNIST): a 4-byte magic `[0, 0, type, ndims]`, then
//! `ndims` big-endian `u32` sizes, then the elements in row-major order, big-endian.

mod read;
mod types;
mod write;

pub use read::{DEFAULT_MAX_BYTES, IdxReader, read_idx, read_idx_as};
pub use types::{IdxArray, IdxElement, IdxType};
pub use write::{Compression, encode_idx, write_idx};
