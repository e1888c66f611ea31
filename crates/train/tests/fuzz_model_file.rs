//! Fuzzing the model-file reader: real model files (f32 and f64, with and without optimizer
//! state, with and without checksums) mutated by bit flips, byte edits, truncation, appended
//! junk, a rewritten header length and numbers in the header JSON (shapes, offsets, units,
//! filters, input shapes) replaced by huge or odd values. The reader must return (a model or a
//! `ModelFileError`) without panicking, must never allocate more than the file justifies, and a
//! file whose only damage is inside the tensor data must be refused by its checksums.
//!
//! This file holds a single test so that the allocation counter sees only the reader.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

use ndarray::ArrayD;
use neurite_layers::{
    Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Mode,
    Sequential, models,
};
use neurite_optim::OptimizerState;
use neurite_tensor::Float;
use neurite_testing::safetensors_edit::with_metadata;
use neurite_train::model_file::{DIGEST_PREFIX, ModelReader, TrainingState, to_bytes};
use proptest::prelude::*;

/// Tracks, while `ARMED`, the largest single allocation and the peak of bytes allocated and not
/// yet freed.
struct Counting;

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Files tried and files accepted, for the summary printed after the last case.
static TRIED: AtomicUsize = AtomicUsize::new(0);
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    LARGEST.fetch_max(size, Ordering::Relaxed);
    let live = LIVE.fetch_add(size as isize, Ordering::Relaxed) + size as isize;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            grew(layout.size());
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
            grew(new_size);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Fixed overhead the reader may allocate whatever the input (maps, names, layer objects).
const SLACK: usize = 256 << 10;
/// Mutated files per run (a few seconds in the test profile).
const CASES: u32 = 20_000;
/// The reader's memory limit in this test: an architecture may declare up to this much.
const LIMIT: u64 = 64 << 20;

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        value: u8,
    },
    Truncate {
        keep: usize,
    },
    Append {
        junk: Vec<u8>,
    },
    /// Overwrite the 8-byte little-endian header length.
    HeaderLength {
        value: u64,
    },
    /// Replace the `index`-th run of digits in the header JSON (tensor shapes, data offsets,
    /// and inside the architecture string units, filters, kernel sizes, input shape, seed) by
    /// `value`, then (if `fix_length`) correct the header length so the parser goes on.
    Number {
        index: usize,
        value: String,
        fix_length: bool,
    },
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::from("0")),
        1 => Just(String::from("1")),
        1 => Just(String::from("-1")),
        1 => Just(String::from("4294967296")),
        1 => Just(u64::MAX.to_string()),
        1 => Just(String::from("340282366920938463463374607431768211456")),
        1 => Just(String::from("1e300")),
        // Sizes a build could really allocate, yet far more than the file holds.
        3 => (10u32..200_000).prop_map(|v| v.to_string()),
        1 => any::<u32>().prop_map(|v| v.to_string()),
        1 => any::<u64>().prop_map(|v| v.to_string()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::SetByte { at, value }),
        1 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        1 => proptest::collection::vec(any::<u8>(), 1..16).prop_map(|junk| Mutation::Append { junk }),
        1 => prop_oneof![any::<u64>(), 0u64..4096, Just(u64::MAX)]
            .prop_map(|value| Mutation::HeaderLength { value }),
        4 => (any::<usize>(), number(), any::<bool>())
            .prop_map(|(index, value, fix_length)| Mutation::Number { index, value, fix_length }),
    ]
}

/// The declared header length, if the file is long enough to have one.
fn header_len(bytes: &[u8]) -> Option<usize> {
    let prefix: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    usize::try_from(u64::from_le_bytes(prefix)).ok()
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::FlipBit { at, bit } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b ^= 1 << bit;
            }
        }
        Mutation::SetByte { at, value } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b = *value;
            }
        }
        Mutation::Truncate { keep } => bytes.truncate(keep % len),
        Mutation::Append { junk } => bytes.extend_from_slice(junk),
        Mutation::HeaderLength { value } => {
            if bytes.len() >= 8 {
                bytes[..8].copy_from_slice(&value.to_le_bytes());
            }
        }
        Mutation::Number {
            index,
            value,
            fix_length,
        } => {
            let Some(n) = header_len(bytes).filter(|&n| n <= bytes.len() - 8) else {
                return;
            };
            let header = &bytes[8..8 + n];
            let mut runs = Vec::new();
            let mut i = 0;
            while i < header.len() {
                if header[i].is_ascii_digit() {
                    let start = i;
                    while i < header.len() && header[i].is_ascii_digit() {
                        i += 1;
                    }
                    runs.push(start..i);
                } else {
                    i += 1;
                }
            }
            if runs.is_empty() {
                return;
            }
            let run = runs[index % runs.len()].clone();
            let (start, end) = (8 + run.start, 8 + run.end);
            bytes.splice(start..end, value.bytes());
            if *fix_length {
                let new_len = (n + value.len() - run.len()) as u64;
                bytes[..8].copy_from_slice(&new_len.to_le_bytes());
            }
        }
    }
}

/// Whether `m` changed only bytes inside the tensor data of `original` (past the header).
fn only_data_changed(original: &[u8], mutated: &[u8]) -> bool {
    let Some(n) = header_len(original) else {
        return false;
    };
    original.len() == mutated.len()
        && original[..8 + n] == mutated[..8 + n]
        && original[8 + n..] != mutated[8 + n..]
}

/// A small network with every kind of stored state: Conv2D, BatchNorm statistics, a Dropout
/// stream position, Dense layers.
fn small_cnn<F: Float>(seed: u64) -> Sequential<F> {
    let mut model = Sequential::with_seed(seed)
        .add(Conv2D::new(3, (3, 3)).activation(Activation::Relu))
        .add(BatchNormalization::new())
        .add(MaxPooling2D::new((2, 2)))
        .add(Flatten::new())
        .add(Dropout::new(0.25))
        .add(Dense::new(4).activation(Activation::Softmax));
    model.build(&[1, 8, 8]).unwrap();
    // A training-mode forward moves the BatchNorm statistics and the dropout stream.
    let x = ArrayD::from_shape_fn(vec![2, 1, 8, 8], |d| {
        F::from_f64((d[2] * 8 + d[3]) as f64 / 64.0)
    });
    model.forward(x.view(), Mode::Train).unwrap();
    model
}

fn momentum<F: Float>(model: &Sequential<F>) -> TrainingState<F> {
    TrainingState {
        optimizer: OptimizerState {
            optimizer: String::from("sgd"),
            iterations: 7,
            learning_rate: 0.01,
            tensors: model
                .params()
                .iter()
                .filter(|(_, p)| p.is_trainable())
                .map(|(name, p)| {
                    (
                        format!("{name}/momentum"),
                        p.value().mapv(|v| v * F::from_f64(0.5)),
                    )
                })
                .collect(),
        },
        epochs_completed: Some(3),
        compile: None,
    }
}

/// The same file as written before checksums existed.
fn without_checksums(bytes: &[u8]) -> Vec<u8> {
    with_metadata(bytes, |meta| {
        meta.retain(|k, _| !k.starts_with(DIGEST_PREFIX))
    })
}

/// The real files the mutations start from, and whether each is f64.
fn originals() -> &'static [(Vec<u8>, bool)] {
    static FILES: OnceLock<Vec<(Vec<u8>, bool)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let cnn = small_cnn::<f32>(1);
        let cnn64 = small_cnn::<f64>(2);
        let with_opt = to_bytes(&cnn, Some(&momentum(&cnn))).unwrap();
        vec![
            (to_bytes(&models::xor::<f32>(3), None).unwrap(), false),
            (to_bytes(&cnn, None).unwrap(), false),
            (without_checksums(&with_opt), false),
            (with_opt, false),
            (to_bytes(&cnn64, Some(&momentum(&cnn64))).unwrap(), true),
        ]
    })
}

/// Parses `bytes` as `F`; on success, checks that the model saves to a file that loads back.
fn parse_and_check<F: Float>(bytes: &[u8]) -> Result<bool, String> {
    let reader = ModelReader::new().max_bytes(LIMIT);
    match reader.parse::<F>(bytes, Path::new("fuzz.safetensors")) {
        Ok(loaded) => {
            let again = to_bytes(&loaded.model, loaded.training.as_ref())
                .map_err(|e| format!("an accepted model does not save again: {e}"))?;
            reader
                .parse::<F>(&again, Path::new("again.safetensors"))
                .map_err(|e| format!("an accepted model does not load again: {e}"))?;
            Ok(true)
        }
        Err(e) => {
            let text = e.to_string();
            if !text.contains("fuzz.safetensors") {
                return Err(format!("the error does not name the file: {text}"));
            }
            Ok(false)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_model_files_never_panic_or_overallocate(
        which in 0usize..5,
        as_other_type in proptest::bool::weighted(0.1),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let (original, is_f64) = &originals()[which];
        let mut bytes = original.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let as_f64 = *is_f64 != as_other_type;

        LARGEST.store(0, Ordering::Relaxed);
        LIVE.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        ARMED.store(true, Ordering::Relaxed);
        let result = std::panic::catch_unwind(|| {
            // Only the first parse is measured: the re-save of an accepted model is checked
            // for correctness, and it allocates a second file.
            let first = if as_f64 {
                ModelReader::new().max_bytes(LIMIT).parse::<f64>(&bytes, Path::new("fuzz.safetensors")).map(|_| ())
            } else {
                ModelReader::new().max_bytes(LIMIT).parse::<f32>(&bytes, Path::new("fuzz.safetensors")).map(|_| ())
            };
            ARMED.store(false, Ordering::Relaxed);
            let _ = first;
            if as_f64 { parse_and_check::<f64>(&bytes) } else { parse_and_check::<f32>(&bytes) }
        });
        ARMED.store(false, Ordering::Relaxed);
        let (largest, peak) = (LARGEST.load(Ordering::Relaxed), PEAK.load(Ordering::Relaxed));

        let accepted = result
            .map_err(|_| TestCaseError::fail("the reader panicked"))?
            .map_err(TestCaseError::fail)?;
        // A tensor is decoded into at most its own size, and the built model holds each
        // parameter and its gradient: at most three times the file, never what a damaged
        // header merely claims.
        prop_assert!(largest <= bytes.len() + SLACK, "one allocation of {largest} bytes for a {}-byte file", bytes.len());
        prop_assert!(peak <= (3 * bytes.len() + SLACK) as isize, "{peak} bytes live for a {}-byte file", bytes.len());
        let tried = TRIED.fetch_add(1, Ordering::Relaxed) + 1;
        let accepted_so_far = ACCEPTED.fetch_add(usize::from(accepted), Ordering::Relaxed) + usize::from(accepted);
        if tried == CASES as usize {
            println!("{tried} mutated model files: {accepted_so_far} loaded, the rest refused, none panicked");
        }
        let checksummed = which != 2;
        if checksummed && only_data_changed(original, &bytes) {
            prop_assert!(!accepted, "damaged tensor data was accepted");
        }
    }
}
