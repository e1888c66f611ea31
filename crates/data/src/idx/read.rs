//! Reading IDX files, plain or gzip-compressed, without trusting the header.
//!
//! The header's dimensions are checked before anything is allocated: against a hard cap, against
//! the file length for plain files, and against the most a gzip file of that length can expand to
//! for compressed ones. When the length is unknown (a bare `Read`), the buffer grows with the data
//! actually decoded, so a lying header costs at most what the stream really holds.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;
use ndarray::{ArrayD, IxDyn};

use super::types::{IdxArray, IdxElement, IdxType};
use crate::error::{DataError, Result};

/// The largest data section the reader accepts by default: 4 GiB, far above any dataset the
/// format is used for and far below what would take a machine down.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 30;

/// Deflate cannot expand input by more than about 1032:1 (a 258-byte match per 2 bits); a gzip
/// file of `n` bytes therefore never holds more than `n * 1032` decompressed bytes.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Without a known length, grow the buffer from here rather than trusting the header.
const UNKNOWN_LENGTH_START: usize = 64 << 10;

/// Initial buffer for gzip data, as a multiple of the compressed size (MNIST's images expand
/// about 5x, its labels 2x).
const GZIP_START_RATIO: u64 = 8;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads an IDX file of any element type; gzip is detected from the magic bytes.
///
/// ```no_run
/// let labels = neurite_data::read_idx("t10k-labels-idx1-ubyte.gz")?;
/// assert_eq!(labels.shape(), &[10_000]);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    IdxReader::new().read(path)
}

/// Reads an IDX file whose elements must be `T`.
///
/// ```no_run
/// let images = neurite_data::read_idx_as::<u8>("t10k-images-idx3-ubyte.gz")?;
/// assert_eq!(images.shape(), &[10_000, 28, 28]);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
pub fn read_idx_as<T: IdxElement>(path: impl AsRef<Path>) -> Result<ArrayD<T>> {
    let path = path.as_ref();
    let array = read_idx(path)?;
    let got = array.elem_type().name();
    array.into_typed::<T>().ok_or_else(|| DataError::WrongType {
        path: path.to_path_buf(),
        expected: T::TYPE.name(),
        got,
    })
}

/// An IDX reader with a configurable size cap.
///
/// ```
/// use neurite_data::{IdxArray, IdxReader};
/// // Header: type u8, 1 dimension of size 3; then the data.
/// let bytes = [0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9];
/// let array = IdxReader::new().read_bytes(&bytes, "inline")?;
/// assert_eq!(array, IdxArray::U8(ndarray::arr1(&[7u8, 8, 9]).into_dyn()));
/// # Ok::<(), neurite_data::DataError>(())
/// ```
#[derive(Clone, Debug)]
pub struct IdxReader {
    max_bytes: u64,
}

impl Default for IdxReader {
    fn default() -> Self {
        Self::new()
    }
}

impl IdxReader {
    /// A reader with the default cap ([`DEFAULT_MAX_BYTES`]).
    pub fn new() -> Self {
        IdxReader {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// Refuses files whose header declares more than `max_bytes` of data.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Reads the file at `path`.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<IdxArray> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| DataError::io("stat", path, e))?
            .len();
        self.read_from(BufReader::with_capacity(1 << 16, file), Some(len), path)
    }

    /// Reads an in-memory IDX file; `name` only labels errors.
    pub fn read_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<IdxArray> {
        self.read_from(bytes, Some(bytes.len() as u64), name.as_ref())
    }

    /// Reads from any buffered reader. `len` is the total length of the stream when known (it
    /// lets the reader reject a lying header before allocating); `name` only labels errors.
    pub fn read_from<R: BufRead>(
        &self,
        mut reader: R,
        len: Option<u64>,
        name: &Path,
    ) -> Result<IdxArray> {
        let is_gzip = {
            let head = reader
                .fill_buf()
                .map_err(|e| DataError::io("read", name, e))?;
            head.len() >= 2 && head[..2] == GZIP_MAGIC
        };
        if is_gzip {
            let limit = len.map(|n| n.saturating_mul(MAX_DEFLATE_RATIO));
            let mut decoder = Decoded {
                inner: MultiGzDecoder::new(reader),
                path: name,
                gzip: true,
            };
            self.read_plain(&mut decoder, limit, false, name)
        } else {
            let mut plain = Decoded {
                inner: reader,
                path: name,
                gzip: false,
            };
            self.read_plain(&mut plain, len, true, name)
        }
    }

    /// Parses header and data from the decoded byte stream. `len` bounds the stream's length;
    /// `exact` says the bound is the exact length (plain files), not just an upper bound.
    fn read_plain<R: Read>(
        &self,
        reader: &mut Decoded<'_, R>,
        len: Option<u64>,
        exact: bool,
        name: &Path,
    ) -> Result<IdxArray> {
        let mut magic = [0u8; 4];
        reader.read_full(&mut magic, "header", 4, 0)?;
        if magic[0] != 0 || magic[1] != 0 {
            return Err(DataError::BadMagic {
                path: name.to_path_buf(),
                got: magic,
            });
        }
        let elem = IdxType::from_code(magic[2]).ok_or(DataError::UnknownType {
            path: name.to_path_buf(),
            code: magic[2],
        })?;
        let ndims = usize::from(magic[3]);
        if ndims == 0 {
            return Err(DataError::BadDims {
                path: name.to_path_buf(),
                dims: vec![],
                reason: "zero dimensions",
            });
        }
        let header_len = 4 + 4 * ndims as u64;
        let mut dim_bytes = vec![0u8; 4 * ndims];
        reader.read_full(&mut dim_bytes, "header", header_len, 4)?;
        let dims: Vec<u64> = dim_bytes
            .chunks_exact(4)
            .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        if dims.contains(&0) {
            return Err(DataError::BadDims {
                path: name.to_path_buf(),
                dims,
                reason: "a dimension is zero",
            });
        }

        let declared = dims
            .iter()
            .try_fold(elem.size() as u64, |acc, &d| acc.checked_mul(d))
            .unwrap_or(u64::MAX);
        let too_large = |limit: u64, why: &'static str| DataError::TooLarge {
            path: name.to_path_buf(),
            dims: dims.clone(),
            declared,
            limit,
            why,
        };
        if declared > self.max_bytes {
            return Err(too_large(self.max_bytes, "the reader's cap"));
        }
        if usize::try_from(declared).is_err() {
            return Err(too_large(
                usize::MAX as u64,
                "this platform's address space",
            ));
        }
        let room = len.map(|n| n.saturating_sub(header_len));
        if let Some(room) = room {
            if exact && declared > room {
                return Err(DataError::Truncated {
                    path: name.to_path_buf(),
                    part: "data",
                    expected: declared,
                    got: room,
                });
            }
            if !exact && declared > room {
                return Err(too_large(room, "what the compressed file can expand to"));
            }
            if exact && room > declared {
                return Err(DataError::TrailingData {
                    path: name.to_path_buf(),
                    expected: declared,
                    extra: room - declared,
                });
            }
        }

        // Allocate the declared size at once only when the file length vouches for it (plain
        // files). A gzip file could legally expand 1032-fold, but real data compresses far
        // less, so start near a typical ratio and let the buffer grow with what really decodes.
        let start = match (room, exact) {
            (Some(_), true) => declared as usize,
            (Some(room), false) => {
                declared.min(room / MAX_DEFLATE_RATIO * GZIP_START_RATIO + (1 << 16)) as usize
            }
            (None, _) => (declared as usize).min(UNKNOWN_LENGTH_START),
        };
        let mut data = Vec::with_capacity(start);
        let got = reader.read_up_to(&mut data, declared)?;
        if got < declared {
            return Err(DataError::Truncated {
                path: name.to_path_buf(),
                part: "data",
                expected: declared,
                got,
            });
        }
        let extra = reader.count_rest(1 << 16)?;
        if extra > 0 {
            return Err(DataError::TrailingData {
                path: name.to_path_buf(),
                expected: declared,
                extra,
            });
        }

        let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
        decode(elem, shape, data, name)
    }
}

/// Turns the big-endian data bytes into a typed array.
fn decode(elem: IdxType, shape: Vec<usize>, data: Vec<u8>, name: &Path) -> Result<IdxArray> {
    fn typed<T: IdxElement>(
        shape: Vec<usize>,
        data: &[u8],
    ) -> std::result::Result<IdxArray, ndarray::ShapeError> {
        let values: Vec<T> = data
            .chunks_exact(T::TYPE.size())
            .map(T::from_be_slice)
            .collect();
        Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(&shape), values)?))
    }
    let shape_for_error = shape.clone();
    let result = match elem {
        IdxType::U8 => ArrayD::from_shape_vec(IxDyn(&shape), data).map(IdxArray::U8),
        IdxType::I8 => typed::<i8>(shape, &data),
        IdxType::I16 => typed::<i16>(shape, &data),
        IdxType::I32 => typed::<i32>(shape, &data),
        IdxType::F32 => typed::<f32>(shape, &data),
        IdxType::F64 => typed::<f64>(shape, &data),
    };
    // Unreachable after the length checks above; reported rather than unwrapped all the same.
    result.map_err(|_| DataError::BadDims {
        path: name.to_path_buf(),
        dims: shape_for_error.iter().map(|&d| d as u64).collect(),
        reason: "dimensions do not match the data length",
    })
}

/// The decoded stream, with errors mapped to what they mean for an IDX file.
struct Decoded<'a, R> {
    inner: R,
    path: &'a Path,
    gzip: bool,
}

impl<R: Read> Decoded<'_, R> {
    fn map_err(&self, e: std::io::Error) -> DataError {
        let path = self.path.to_path_buf();
        match (self.gzip, e.kind()) {
            (true, ErrorKind::UnexpectedEof) => DataError::Gzip {
                path,
                problem: "is truncated",
                detail: e.to_string(),
            },
            (true, ErrorKind::InvalidData | ErrorKind::InvalidInput | ErrorKind::Other) => {
                DataError::Gzip {
                    path,
                    problem: "is corrupt",
                    detail: e.to_string(),
                }
            }
            _ => DataError::io("read", path, e),
        }
    }

    /// Fills `buf` completely or reports the header as truncated (`offset` bytes came before).
    fn read_full(
        &mut self,
        buf: &mut [u8],
        part: &'static str,
        expected: u64,
        offset: u64,
    ) -> Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(DataError::Truncated {
                        path: self.path.to_path_buf(),
                        part,
                        expected,
                        got: offset + filled as u64,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.map_err(e)),
            }
        }
        Ok(())
    }

    /// Appends up to `limit` bytes to `out`; returns how many were read.
    fn read_up_to(&mut self, out: &mut Vec<u8>, limit: u64) -> Result<u64> {
        let mut taken = (&mut self.inner).take(limit);
        match taken.read_to_end(out) {
            Ok(n) => Ok(n as u64),
            Err(e) => Err(self.map_err(e)),
        }
    }

    /// Counts remaining bytes, stopping once `cap` are seen.
    fn count_rest(&mut self, cap: u64) -> Result<u64> {
        let mut sink = [0u8; 4096];
        let mut total = 0u64;
        while total < cap {
            match self.inner.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.map_err(e)),
            }
        }
        Ok(total)
    }
}
