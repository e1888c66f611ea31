//! IDX reading and writing: round trips of every element type, and every class of bad file.

use std::io::Write;

use ndarray::{ArrayD, IxDyn};
use neurite_data::{
    Compression, DataError, IdxArray, IdxReader, encode_idx, read_idx, read_idx_as, write_idx,
};

fn arr<T: Clone>(shape: &[usize], values: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(shape), values).unwrap()
}

fn samples() -> Vec<IdxArray> {
    vec![
        arr(&[3], vec![0u8, 128, 255]).into(),
        arr(&[2, 2], vec![-128i8, -1, 0, 127]).into(),
        arr(&[2, 1, 2], vec![i16::MIN, -2, 300, i16::MAX]).into(),
        arr(&[4], vec![i32::MIN, -70000, 1 << 20, i32::MAX]).into(),
        arr(&[1, 3], vec![-0.5f32, 1.0e-30, f32::INFINITY]).into(),
        arr(&[2, 1, 1, 1], vec![std::f64::consts::PI, -2.5e300]).into(),
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn every_type_round_trips_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    for (i, array) in samples().into_iter().enumerate() {
        for compression in [Compression::None, Compression::Gzip] {
            let path = dir.path().join(format!("a{i}-{compression:?}.idx"));
            write_idx(&path, &array, compression).unwrap();
            let back = read_idx(&path).unwrap();
            assert_eq!(back, array, "type {:?} {compression:?}", array.elem_type());
            let raw = std::fs::read(&path).unwrap();
            assert_eq!(raw[..2] == [0x1f, 0x8b], compression == Compression::Gzip);
        }
    }
    // Only the six files per compression remain: no temporary files left over.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 12);
}

#[test]
fn encoding_is_big_endian_as_the_format_defines() {
    let bytes = encode_idx(&arr(&[2], vec![1i16, -2]).into(), "x").unwrap();
    assert_eq!(bytes, [0, 0, 0x0B, 1, 0, 0, 0, 2, 0x00, 0x01, 0xFF, 0xFE]);
    let f = encode_idx(&arr(&[1], vec![1.0f32]).into(), "x").unwrap();
    assert_eq!(f, [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0x80, 0, 0]);
}

#[test]
fn non_standard_layouts_are_written_in_logical_order() {
    let t = arr(&[2, 3], (0u8..6).collect()).reversed_axes(); // shape [3, 2], column-major memory
    let bytes = encode_idx(&t.clone().into(), "t").unwrap();
    assert_eq!(&bytes[12..], &[0, 3, 1, 4, 2, 5]);
    assert_eq!(
        IdxReader::new().read_bytes(&bytes, "t").unwrap(),
        IdxArray::U8(t)
    );
}

#[test]
fn typed_read_checks_the_element_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.idx");
    write_idx(
        &path,
        &arr(&[2], vec![1.0f64, 2.0]).into(),
        Compression::None,
    )
    .unwrap();
    assert_eq!(
        read_idx_as::<f64>(&path).unwrap(),
        arr(&[2], vec![1.0, 2.0])
    );
    let err = read_idx_as::<u8>(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::WrongType {
                expected: "u8",
                got: "f64",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("f.idx"), "{err}");
}

fn read(bytes: &[u8]) -> Result<IdxArray, DataError> {
    IdxReader::new().read_bytes(bytes, "mem.idx")
}

#[test]
fn bad_headers_are_named() {
    let err = read(b"<html>nope</html>").unwrap_err();
    assert!(
        matches!(err, DataError::BadMagic { got, .. } if got == *b"<htm"),
        "{err}"
    );
    assert!(
        err.to_string().contains("mem.idx") && err.to_string().contains("HTML"),
        "{err}"
    );

    let err = read(&[0, 0, 0x0A, 1, 0, 0, 0, 1, 5]).unwrap_err();
    assert!(
        matches!(err, DataError::UnknownType { code: 0x0A, .. }),
        "{err}"
    );

    let err = read(&[0, 0, 0x08, 0]).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadDims {
                reason: "zero dimensions",
                ..
            }
        ),
        "{err}"
    );

    let err = read(&[0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 0]).unwrap_err();
    assert!(
        matches!(err, DataError::BadDims { ref dims, .. } if dims == &[3, 0]),
        "{err}"
    );

    let err = read(&[0, 0, 0x08, 2, 0, 0, 0]).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                part: "header",
                expected: 12,
                got: 7,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn data_length_must_match_the_header() {
    let mut bytes = vec![0, 0, 0x0C, 1, 0, 0, 0, 3];
    bytes.extend_from_slice(&[0; 11]); // 3 i32 need 12 bytes
    let err = read(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                part: "data",
                expected: 12,
                got: 11,
                ..
            }
        ),
        "{err}"
    );

    bytes.extend_from_slice(&[0; 3]); // now 14 bytes: 2 too many
    let err = read(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::TrailingData {
                expected: 12,
                extra: 2,
                ..
            }
        ),
        "{err}"
    );

    // The same checks hold through gzip, where the length is only known after decoding.
    let err = read(&gzip(&bytes)).unwrap_err();
    assert!(
        matches!(err, DataError::TrailingData { expected: 12, .. }),
        "{err}"
    );
    let err = read(&gzip(&bytes[..8 + 11])).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                part: "data",
                got: 11,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn huge_headers_are_refused_before_allocating() {
    // 4 dims of u32::MAX: the product overflows u64.
    let mut bytes = vec![0, 0, 0x0E, 4];
    for _ in 0..4 {
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    }
    let err = read(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::TooLarge {
                declared: u64::MAX,
                ..
            }
        ),
        "{err}"
    );

    // Plausible for the cap, impossible for the file: a plain file must hold the data itself.
    let small = [0, 0, 0x08, 1, 0x01, 0, 0, 0, 1, 2, 3];
    let err = read(&small).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 16_777_216,
                got: 3,
                ..
            }
        ),
        "{err}"
    );

    // A gzip file cannot expand beyond 1032:1.
    let gz = gzip(&[0, 0, 0x08, 1, 0x40, 0, 0, 0, 1, 2, 3]);
    let err = read(&gz).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::TooLarge {
                declared: 1_073_741_824,
                ..
            }
        ),
        "{err}"
    );

    // And the reader's own cap applies to everything.
    let ok = encode_idx(&arr(&[100], vec![7u8; 100]).into(), "x").unwrap();
    let err = IdxReader::new()
        .max_bytes(99)
        .read_bytes(&ok, "x")
        .unwrap_err();
    assert!(
        matches!(
            err,
            DataError::TooLarge {
                declared: 100,
                limit: 99,
                ..
            }
        ),
        "{err}"
    );
    assert!(IdxReader::new().max_bytes(100).read_bytes(&ok, "x").is_ok());
}

#[test]
fn unknown_length_streams_are_checked_too() {
    let ok = encode_idx(&arr(&[2, 2], vec![1u8, 2, 3, 4]).into(), "x").unwrap();
    let got = IdxReader::new()
        .read_from(&ok[..], None, "stream".as_ref())
        .unwrap();
    assert_eq!(got, IdxArray::U8(arr(&[2, 2], vec![1, 2, 3, 4])));
    let err = IdxReader::new()
        .read_from(&ok[..ok.len() - 1], None, "stream".as_ref())
        .unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 4,
                got: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn damaged_gzip_is_reported_as_such() {
    let ok = encode_idx(&arr(&[64], (0u8..64).collect()).into(), "x").unwrap();
    let gz = gzip(&ok);
    let err = read(&gz[..gz.len() - 6]).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Gzip {
                problem: "is truncated",
                ..
            }
        ),
        "{err}"
    );

    let mut bad_crc = gz.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xFF; // CRC32 in the trailer
    let err = read(&bad_crc).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Gzip {
                problem: "is corrupt",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("fetch it again"), "{err}");
}

#[test]
fn unwritable_arrays_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.idx");
    let err = write_idx(
        &path,
        &arr(&[0], Vec::<u8>::new()).into(),
        Compression::None,
    )
    .unwrap_err();
    assert!(matches!(err, DataError::Unwritable { .. }), "{err}");
    let scalar = ArrayD::from_elem(IxDyn(&[]), 1.0f32);
    assert!(write_idx(&path, &scalar.into(), Compression::Gzip).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn failed_write_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.idx");
    let first: IdxArray = arr(&[2], vec![1u8, 2]).into();
    write_idx(&path, &first, Compression::None).unwrap();
    let bad = ArrayD::from_elem(IxDyn(&[]), 0u8);
    assert!(write_idx(&path, &bad.into(), Compression::None).is_err());
    assert_eq!(read_idx(&path).unwrap(), first);
}

#[test]
fn missing_file_names_the_path() {
    let err = read_idx("/nonexistent/dir/x.idx").unwrap_err();
    assert!(matches!(err, DataError::Io { op: "open", .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/dir/x.idx"), "{err}");
}

#[test]
fn highly_compressible_gzip_grows_its_buffer_correctly() {
    // 2 MB of near-zeros compress about 1000-fold, far past the reader's initial guess.
    let mut values = vec![0u8; 2 << 20];
    values[12_345] = 9;
    let array: IdxArray = arr(&[2048, 1024], values).into();
    let gz = gzip(&encode_idx(&array, "z").unwrap());
    assert!(gz.len() < 30_000, "{}", gz.len());
    assert_eq!(read(&gz).unwrap(), array);
}
