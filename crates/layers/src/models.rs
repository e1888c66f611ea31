//! The four reference models of neurite, layer for layer as in the Keras tutorials they come from.
//!
//! Each function returns a model built for its input shape, with weights drawn from `seed`.
//! The `*_layers` variants return the same stack unbuilt, to build for another input shape.

use neurite_tensor::Float;

use crate::{Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential};

/// MNIST input shape, NCHW without the batch axis.
pub const MNIST_INPUT: [usize; 3] = [1, 28, 28];

fn built<F: Float>(mut model: Sequential<F>, input: &[usize]) -> Sequential<F> {
    // The architectures are fixed and their shapes are tested; a failure here is a bug in this
    // file, never a consequence of user input.
    model
        .build(input)
        .expect("reference architectures accept their input shape");
    model
}

/// **mlp** layers: Flatten -> Dense(128, relu) -> Dropout(0.2) -> Dense(10, softmax).
pub fn mlp_layers<F: Float>(seed: u64) -> Sequential<F> {
    Sequential::with_seed(seed)
        .add(Flatten::new())
        .add(Dense::new(128).activation(Activation::Relu))
        .add(Dropout::new(0.2))
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// **mlp** built for MNIST `[1, 28, 28]`: 101,770 parameters.
///
/// ```
/// let model = neurite_layers::models::mlp::<f32>(0);
/// assert_eq!(model.param_count(), (101_770, 101_770));
/// ```
pub fn mlp<F: Float>(seed: u64) -> Sequential<F> {
    built(mlp_layers(seed), &MNIST_INPUT)
}

/// **cnn** layers: Conv2D(32, 3x3, relu) -> MaxPool(2) -> Conv2D(64, 3x3, relu) -> MaxPool(2)
/// -> Conv2D(64, 3x3, relu) -> Flatten -> Dense(64, relu) -> Dense(10, softmax).
pub fn cnn_layers<F: Float>(seed: u64) -> Sequential<F> {
    Sequential::with_seed(seed)
        .add(Conv2D::new(32, (3, 3)).activation(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Conv2D::new(64, (3, 3)).activation(Activation::Relu))
        .add(MaxPooling2D::new((2, 2)))
        .add(Conv2D::new(64, (3, 3)).activation(Activation::Relu))
        .add(Flatten::new())
        .add(Dense::new(64).activation(Activation::Relu))
        .add(Dense::new(10).activation(Activation::Softmax))
}

/// **cnn** built for MNIST `[1, 28, 28]`: 93,322 parameters.
///
/// ```
/// let model = neurite_layers::models::cnn::<f32>(0);
/// assert_eq!(model.param_count().0, 93_322);
/// ```
pub fn cnn<F: Float>(seed: u64) -> Sequential<F> {
    built(cnn_layers(seed), &MNIST_INPUT)
}

/// **xor**: 3 inputs -> Dense(4, sigmoid) -> Dense(1, sigmoid) (21 parameters).
pub fn xor<F: Float>(seed: u64) -> Sequential<F> {
    let model = Sequential::with_seed(seed)
        .add(Dense::new(4).activation(Activation::Sigmoid))
        .add(Dense::new(1).activation(Activation::Sigmoid));
    built(model, &[3])
}

/// **regression**: 10 inputs -> Dense(10, relu) -> Dense(1) (121 parameters).
pub fn regression<F: Float>(seed: u64) -> Sequential<F> {
    let model = Sequential::with_seed(seed)
        .add(Dense::new(10).activation(Activation::Relu))
        .add(Dense::new(1));
    built(model, &[10])
}
