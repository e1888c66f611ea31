//! Shared by the `mlp` and `cnn` examples: the real MNIST test set bundled with neurite-data,
//! split 8,000 / 2,000 (no download, no files outside the repository).

use neurite::prelude::*;

/// Images `[N, 1, 28, 28]` in [0, 1] and labels (`[N]`, or one-hot `[N, 10]`).
pub type Split4 = (Tensor<f32>, Tensor<f32>, Tensor<f32>, Tensor<f32>);

/// `(x_train, y_train, x_test, y_test)`: the first 8,000 test images for training, the last
/// 2,000 for testing.
pub fn load(one_hot: bool) -> Result<Split4, Box<dyn std::error::Error>> {
    let (train, test) = neurite::data::mnist_sample()?;
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
