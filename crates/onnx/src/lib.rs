//! neurite-onnx: export a built [`neurite_layers::Sequential`] to an ONNX inference model.
//!
//! ```
//! use neurite_onnx::{ExportOptions, export};
//! let model = neurite_layers::models::cnn::<f32>(0);
//! let dir = tempfile::tempdir().unwrap();
//! export(&model, dir.path().join("cnn.onnx"), ExportOptions::default()).unwrap();
//! ```
//!
//! | neurite | ONNX (opset [`OPSET`]) |
//! |---|---|
//! | Dense | `Gemm` (`transB = 1`, weight `[units, inputs]`) |
//! | Conv2D | `Conv` with explicit `pads` (weight `[F, C, KH, KW]`) |
//! | MaxPooling2D, AveragePooling2D | `MaxPool`, `AveragePool` (`count_include_pad = 0`) |
//! | GlobalAveragePooling2D | `GlobalAveragePool` + `Flatten` |
//! | Flatten, Reshape | `Flatten(axis = 1)`, `Reshape([-1, ..])` |
//! | BatchNormalization | `BatchNormalization` (running statistics) |
//! | ReLU, LeakyReLU, Sigmoid, Tanh, ELU, Softplus | the operators of the same name |
//! | Softmax | `Softmax(axis = 1)` |
//! | GELU (exact) | `Div`, `Erf`, `Add`, `Mul`, `Mul` (`Gelu` needs opset 20) |
//! | Dropout | nothing (inference graph) |
//!
//! The messages are `prost` structs written from the ONNX specification ([`proto`]); the graph
//! builder ([`graph`]) keeps names unique. Verification against real runtimes lives outside this
//! crate: `tests/tests/onnx_tract.rs` runs the exported models in tract, and
//! `cargo xtask verify-onnx` runs the ONNX checker and onnxruntime.

mod error;
mod export;
pub mod graph;
mod lower;
pub mod proto;
// Test support: the reference models with inputs and outputs that the parity tests and
// `cargo xtask verify-onnx` share.
#[cfg(feature = "testing")]
pub mod samples;

pub use error::{OnnxError, Result};
pub use export::{ExportOptions, IR_VERSION, OPSET, export, to_bytes, to_model_proto};
