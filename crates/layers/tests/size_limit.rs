//! Sizes nobody can allocate are refused with the layer named, before anything is allocated:
//! at build and per batch in forward (a model file's architecture: neurite-train's
//! `tests/model_file_size_limit.rs`).
//!
//! This file holds a single test so that the allocation counter sees only the code under test.

use ndarray::ArrayD;
use neurite_layers::{Conv2D, DEFAULT_MAX_BYTES, Dense, Flatten, LayerError, Mode, Sequential};
use neurite_testing::alloc::{LargestAllocation, largest_allocation};

#[global_allocator]
static GLOBAL: LargestAllocation = LargestAllocation;

/// Builds `model` for `input`, expecting a refusal that names `layer`, with no allocation
/// above 64 KiB on the way.
fn refused(mut model: Sequential<f32>, input: &[usize], layer: &str) -> String {
    let (result, largest) = largest_allocation(|| model.build(input));
    let err = result.expect_err("must be refused");
    let text = err.to_string();
    assert!(matches!(err, LayerError::TooLarge { .. }), "{text}");
    assert!(
        text.starts_with(layer),
        "'{text}' should start with '{layer}'"
    );
    assert!(
        largest < 64 << 10,
        "allocated {largest} bytes before refusing"
    );
    text
}

#[test]
fn absurd_sizes_are_refused_by_name_before_allocating() {
    assert_eq!(DEFAULT_MAX_BYTES, 4 << 30);

    // 200,000 x 200,000 weights: 160 GB, with gradients 320 GB.
    let text = refused(
        Sequential::new().add(Dense::new(200_000)),
        &[200_000],
        "Dense(200000) 'dense'",
    );
    assert!(
        text.contains("40,000,200,000 parameters")
            && text.contains("298.0 GiB")
            && text.contains("over its limit of 4.0 GiB")
            && text.contains("Sequential::with_max_bytes"),
        "{text}"
    );
    refused(
        Sequential::new().add(Conv2D::new(1 << 30, (3, 3))),
        &[1, 28, 28],
        "Conv2D(1073741824, 3x3) 'conv2d'",
    );
    // Products that overflow u64 saturate instead of wrapping to something small.
    let text = refused(
        Sequential::new().add(Dense::new(usize::MAX)),
        &[usize::MAX],
        "Dense(18446744073709551615) 'dense'",
    );
    assert!(text.contains("more than 10^38 bytes"), "{text}");
    // Per-sample buffers count too: one flattened 2^20 x 2^20 sample is 4 TiB.
    refused(
        Sequential::new().add(Flatten::new()).add(Dense::new(1)),
        &[1 << 20, 1 << 20],
        "Flatten 'flatten'",
    );

    // The limit is exact and settable: Dense(4) on 3 features in f32 holds 16 parameters,
    // 16 gradients and 4 outputs per sample: 144 bytes.
    let tiny = || Sequential::<f32>::new().add(Dense::new(4));
    tiny().with_max_bytes(144).build(&[3]).unwrap();
    refused(tiny().with_max_bytes(143), &[3], "Dense(4) 'dense'");
    // It is the running total that counts: the second layer takes the model over.
    let text = refused(
        Sequential::new()
            .add(Dense::new(1000))
            .add(Dense::new(1000))
            .with_max_bytes(10 << 20),
        &[1000],
        "Dense(1000) 'dense_1'",
    );
    assert!(text.contains("15.3 MiB"), "{text}");

    // A batch whose buffers do not fit is refused before the layers allocate them:
    // 2^21 parameters (16 MiB with gradients) and 4 MiB of output per sample.
    let mut wide = Sequential::<f32>::new().add(Dense::new(1 << 20));
    wide.build(&[1]).unwrap();
    let small = ArrayD::<f32>::zeros(vec![2, 1]);
    assert_eq!(
        wide.forward(small.view(), Mode::Infer).unwrap().shape(),
        [2, 1 << 20]
    );
    let big = ArrayD::<f32>::zeros(vec![1100, 1]);
    let (result, largest) = largest_allocation(|| wide.forward(big.view(), Mode::Infer).err());
    let text = result.expect("a 4.3 GiB batch must be refused").to_string();
    assert!(
        text.starts_with("Dense(1048576) 'dense': a batch of 1100 samples")
            && text.contains("use smaller batches"),
        "{text}"
    );
    assert!(
        largest < 64 << 10,
        "allocated {largest} bytes before refusing"
    );
}
