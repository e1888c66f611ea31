//! neurite: train neural networks in Rust the way Keras does.
//!
//! This facade re-exports the neurite crates; it holds no logic of its own. Depend on it for
//! the whole library, or on a single `neurite-*` crate for one piece.

pub use neurite_data as data;
pub use neurite_layers as layers;
pub use neurite_losses as losses;
pub use neurite_metrics as metrics;
pub use neurite_onnx as onnx;
pub use neurite_optim as optim;
pub use neurite_tensor as tensor;
pub use neurite_train as train;
