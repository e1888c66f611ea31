//! `predict` gives the same bits on any number of threads, whether it runs one network in
//! chunks or one copy of it per thread, and keeps state that is not in the configuration
//! (trained weights, BatchNorm's moving statistics).

use ndarray::{ArrayD, Axis, IxDyn, Slice};
use neurite_layers::{
    Activation, ActivationLayer, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D, Mode,
    Sequential, models,
};
use neurite_tensor::Rng;
use neurite_testing::with_threads;
use neurite_train::predict;

fn images(n: usize, seed: u64) -> ArrayD<f32> {
    let mut rng = Rng::new(seed);
    ArrayD::from_shape_simple_fn(IxDyn(&[n, 1, 28, 28]), || rng.next_f32())
}

/// Every parameter moved away from its initial value, as training would, so that a copy
/// rebuilt from the configuration alone would give other outputs.
fn trained(mut net: Sequential<f32>) -> Sequential<f32> {
    let mut rng = Rng::new(99);
    for (_, p) in net.params_mut() {
        p.value_mut()
            .mapv_inplace(|v| v * 0.9 + 0.05 * (rng.next_f32() + 0.5));
    }
    net
}

/// The outputs one sample at a time, on one thread: the reference.
fn one_by_one(net: &mut Sequential<f32>, x: &ArrayD<f32>) -> Vec<u32> {
    with_threads(1, || {
        let mut out = Vec::new();
        for i in 0..x.len_of(Axis(0)) {
            let y = net
                .forward(x.slice_axis(Axis(0), Slice::from(i..i + 1)), Mode::Infer)
                .unwrap();
            out.extend(y.iter().map(|v| v.to_bits()));
        }
        out
    })
}

fn check(mut net: Sequential<f32>) {
    let x = images(300, 5);
    let want = one_by_one(&mut net, &x);
    for threads in [1, 2, 3] {
        for batch_size in [1000, 32] {
            let got = with_threads(threads, || predict(&mut net, &x, batch_size).unwrap());
            let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
            assert!(
                got == want,
                "{threads} thread(s), batch size {batch_size}: predict differs from one-by-one"
            );
        }
    }
}

#[test]
fn the_reference_cnn_predicts_the_same_bits_on_any_thread_count() {
    check(trained(models::cnn::<f32>(3)));
}

#[test]
fn moving_statistics_reach_every_copy() {
    let mut net = Sequential::with_seed(4)
        .add(Conv2D::new(16, (3, 3)))
        .add(BatchNormalization::new())
        .add(ActivationLayer::new(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Flatten::new())
        .add(Dense::new(10).activation(Activation::Softmax));
    net.build(&[1, 28, 28]).unwrap();
    check(trained(net));
}
