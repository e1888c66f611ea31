//! Shared by the `mlp` and `cnn` examples: the real MNIST test set split 8,000 / 2,000.

use std::path::PathBuf;

use neurite::prelude::*;

/// The data root holding `mnist/` in this project's layout (`../shared/data` from the
/// repository root); `NEURITE_DATA` and the usual places are searched too.
pub fn data_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
}

/// Images `[N, 1, 28, 28]` in [0, 1] and labels (`[N]`, or one-hot `[N, 10]`).
pub type Split4 = (Tensor<f32>, Tensor<f32>, Tensor<f32>, Tensor<f32>);

/// `(x_train, y_train, x_test, y_test)`: the first 8,000 test images for training, the last
/// 2,000 for testing.
pub fn load(one_hot: bool) -> Result<Split4, Box<dyn std::error::Error>> {
    let test = Resolver::new()
        .root(data_root())
        .offline()
        .load(&MNIST, Split::Test)?;
    let (train, test) = test.split_at(8000)?;
    let labels = |d: &Dataset| {
        if one_hot {
            d.labels_one_hot().into_dyn()
        } else {
            d.labels_f32()
        }
    };
    Ok((
        train.images_f32(),
        labels(&train),
        test.images_f32(),
        labels(&test),
    ))
}
