//! Fuzzing the IDX reader: valid files of every type, plain and gzip, mutated by bit flips,
//! truncation, header edits and appended junk. The reader must return (Ok or a `DataError`)
//! without panicking, and no single allocation may exceed what the input can justify.
//!
//! This file holds a single test so that the allocation counter sees only the reader.

use std::io::Write;

use ndarray::{ArrayD, IxDyn};
use neurite_data::{IdxArray, IdxReader, encode_idx};
use neurite_testing::alloc::{LargestAllocation, largest_allocation};
use proptest::prelude::*;

#[global_allocator]
static GLOBAL: LargestAllocation = LargestAllocation;

/// Fixed overhead the reader may allocate whatever the input (decoder state, small vectors).
const SLACK: usize = 256 << 10;
/// Mutated files per run (about a second in the test profile).
const CASES: u32 = 20_000;

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        keep: usize,
    },
    SetByte {
        at: usize,
        value: u8,
    },
    /// Overwrite one of the first 16 bytes: the magic and the first dimensions.
    EditHeader {
        at: usize,
        value: u8,
    },
    /// Set a 4-byte big-endian dimension field to a large value.
    HugeDim {
        dim: usize,
        value: u32,
    },
    Append {
        junk: Vec<u8>,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::SetByte { at, value }),
        (0usize..16, any::<u8>()).prop_map(|(at, value)| Mutation::EditHeader { at, value }),
        (0usize..4, any::<u32>()).prop_map(|(dim, value)| Mutation::HugeDim { dim, value }),
        proptest::collection::vec(any::<u8>(), 1..16).prop_map(|junk| Mutation::Append { junk }),
    ]
}

fn valid_array(type_index: usize, dims: &[usize], seed: u8) -> IdxArray {
    let n: usize = dims.iter().product();
    let shape = IxDyn(dims);
    let bytes: Vec<u8> = (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    match type_index {
        0 => ArrayD::from_shape_vec(shape, bytes).unwrap().into(),
        1 => ArrayD::from_shape_vec(shape, bytes.iter().map(|&b| b as i8).collect())
            .unwrap()
            .into(),
        2 => ArrayD::from_shape_vec(
            shape,
            bytes
                .iter()
                .map(|&b| i16::from(b).wrapping_mul(129))
                .collect(),
        )
        .unwrap()
        .into(),
        3 => ArrayD::from_shape_vec(shape, bytes.iter().map(|&b| i32::from(b) << 20).collect())
            .unwrap()
            .into(),
        4 => ArrayD::from_shape_vec(shape, bytes.iter().map(|&b| f32::from(b) / 7.0).collect())
            .unwrap()
            .into(),
        _ => ArrayD::from_shape_vec(shape, bytes.iter().map(|&b| f64::from(b) - 0.25).collect())
            .unwrap()
            .into(),
    }
}

/// Mutations of the raw IDX bytes apply before compression (header edits the reader must
/// catch after decoding) or after it (damage to the gzip stream itself).
fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::FlipBit { at, bit } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Truncate { keep } => bytes.truncate(keep % len),
        Mutation::SetByte { at, value } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b = *value;
            }
        }
        Mutation::EditHeader { at, value } => {
            if let Some(b) = bytes.get_mut(*at) {
                *b = *value;
            }
        }
        Mutation::HugeDim { dim, value } => {
            let start = 4 + 4 * dim;
            if bytes.len() >= start + 4 {
                bytes[start..start + 4].copy_from_slice(&value.to_be_bytes());
            }
        }
        Mutation::Append { junk } => bytes.extend_from_slice(junk),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_idx_files_never_panic_or_overallocate(
        type_index in 0usize..6,
        dims in proptest::collection::vec(1usize..6, 1..4),
        seed in any::<u8>(),
        compress in any::<bool>(),
        before in proptest::collection::vec(mutation(), 0..3),
        after in proptest::collection::vec(mutation(), 0..3),
    ) {
        let original = valid_array(type_index, &dims, seed);
        let mut bytes = encode_idx(&original, "fuzz").unwrap();
        for m in &before {
            apply(&mut bytes, m);
        }
        if compress {
            bytes = gzip(&bytes);
        }
        for m in &after {
            apply(&mut bytes, m);
        }
        let unchanged = before.is_empty() && after.is_empty();

        let (result, largest) = largest_allocation(|| {
            std::panic::catch_unwind(|| IdxReader::new().read_bytes(&bytes, "fuzz.idx"))
        });

        let result = result.map_err(|_| TestCaseError::fail("the reader panicked"))?;
        let is_gzip = bytes.starts_with(&[0x1f, 0x8b]);
        // Plain data must fit in the file; gzip data in what deflate can expand it to.
        let bound = if is_gzip { bytes.len() * 1032 } else { bytes.len() } + SLACK;
        prop_assert!(largest <= bound, "allocated {largest} bytes for a {}-byte input", bytes.len());
        if unchanged {
            prop_assert_eq!(result.unwrap(), original);
        } else if let Ok(array) = result {
            // Whatever is accepted is self-consistent.
            prop_assert_eq!(array.shape().iter().product::<usize>() * array.elem_type().size()
                + 4 + 4 * array.shape().len(), encode_idx(&array, "x").unwrap().len());
        }
    }
}
