//! The six IDX element types and an array that holds any one of them.

use ndarray::ArrayD;

/// An IDX element type, with the code the format stores in the third magic byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// Unsigned byte, code 0x08.
    U8,
    /// Signed byte, code 0x09.
    I8,
    /// Big-endian 16-bit signed integer, code 0x0B.
    I16,
    /// Big-endian 32-bit signed integer, code 0x0C.
    I32,
    /// Big-endian IEEE 754 single, code 0x0D.
    F32,
    /// Big-endian IEEE 754 double, code 0x0E.
    F64,
}

impl IdxType {
    /// The type for a magic-byte code, or `None` for codes the format does not define.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }

    /// The magic-byte code of this type.
    pub fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }

    /// The Rust name of the element type ("u8", "f32", ...).
    pub fn name(self) -> &'static str {
        match self {
            IdxType::U8 => "u8",
            IdxType::I8 => "i8",
            IdxType::I16 => "i16",
            IdxType::I32 => "i32",
            IdxType::F32 => "f32",
            IdxType::F64 => "f64",
        }
    }
}

/// An array read from or to be written to an IDX file: one variant per element type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxArray {
    /// `u8` elements.
    U8(ArrayD<u8>),
    /// `i8` elements.
    I8(ArrayD<i8>),
    /// `i16` elements.
    I16(ArrayD<i16>),
    /// `i32` elements.
    I32(ArrayD<i32>),
    /// `f32` elements.
    F32(ArrayD<f32>),
    /// `f64` elements.
    F64(ArrayD<f64>),
}

impl IdxArray {
    /// The element type.
    pub fn elem_type(&self) -> IdxType {
        match self {
            IdxArray::U8(_) => IdxType::U8,
            IdxArray::I8(_) => IdxType::I8,
            IdxArray::I16(_) => IdxType::I16,
            IdxArray::I32(_) => IdxType::I32,
            IdxArray::F32(_) => IdxType::F32,
            IdxArray::F64(_) => IdxType::F64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            IdxArray::U8(a) => a.shape(),
            IdxArray::I8(a) => a.shape(),
            IdxArray::I16(a) => a.shape(),
            IdxArray::I32(a) => a.shape(),
            IdxArray::F32(a) => a.shape(),
            IdxArray::F64(a) => a.shape(),
        }
    }

    /// The array as `T`, or `None` when it holds another element type.
    ///
    /// ```
    /// use neurite_data::IdxArray;
    /// let a = IdxArray::from(ndarray::arr1(&[1u8, 2]).into_dyn());
    /// assert_eq!(a.clone().into_typed::<u8>().unwrap().len(), 2);
    /// assert!(a.into_typed::<f32>().is_none());
    /// ```
    pub fn into_typed<T: IdxElement>(self) -> Option<ArrayD<T>> {
        T::unwrap(self)
    }
}

/// A Rust type that IDX can store. Implemented for `u8`, `i8`, `i16`, `i32`, `f32` and `f64`.
pub trait IdxElement: Copy + Send + Sync + 'static + private::Sealed {
    /// The IDX type of `Self`.
    const TYPE: IdxType;
    /// Wraps an array of `Self`.
    fn wrap(array: ArrayD<Self>) -> IdxArray;
    /// Unwraps an array of `Self`, or `None` for another element type.
    fn unwrap(array: IdxArray) -> Option<ArrayD<Self>>;
}

pub(crate) mod private {
    /// Byte conversions stay crate-private: callers always pass exactly `size` bytes.
    pub trait Sealed: Sized {
        /// Decodes one element from exactly `size_of::<Self>()` big-endian bytes.
        fn from_be_slice(bytes: &[u8]) -> Self;
        /// Appends the big-endian bytes of `self` to `out`.
        fn push_be(self, out: &mut Vec<u8>);
    }
}

macro_rules! idx_element {
    ($t:ty, $variant:ident) => {
        impl private::Sealed for $t {
            fn from_be_slice(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                // Shorter input leaves zeros rather than panicking; callers never pass it.
                for (dst, src) in raw.iter_mut().zip(bytes) {
                    *dst = *src;
                }
                <$t>::from_be_bytes(raw)
            }

            fn push_be(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }

        impl IdxElement for $t {
            const TYPE: IdxType = IdxType::$variant;

            fn wrap(array: ArrayD<Self>) -> IdxArray {
                IdxArray::$variant(array)
            }

            fn unwrap(array: IdxArray) -> Option<ArrayD<Self>> {
                match array {
                    IdxArray::$variant(a) => Some(a),
                    _ => None,
                }
            }
        }

        impl From<ArrayD<$t>> for IdxArray {
            fn from(array: ArrayD<$t>) -> Self {
                IdxArray::$variant(array)
            }
        }
    };
}

idx_element!(u8, U8);
idx_element!(i8, I8);
idx_element!(i16, I16);
idx_element!(i32, I32);
idx_element!(f32, F32);
idx_element!(f64, F64);
