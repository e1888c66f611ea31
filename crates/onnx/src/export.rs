//! `export`: a built `Sequential` to an ONNX file.

use std::path::Path;

use neurite_layers::Sequential;
use neurite_tensor::Float;
use prost::Message;

use crate::graph::{Dim, GraphBuilder};
use crate::lower::{Shapes, lower_layer};
use crate::proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};
use crate::{OnnxError, Result};

/// The ONNX operator set the exporter targets (ONNX 1.12, 2022). Supported by onnxruntime and
/// tract; it has no `Gelu` (opset 20), which is therefore written as `Erf` arithmetic.
pub const OPSET: i64 = 17;

/// The IR (file format) version that goes with [`OPSET`].
pub const IR_VERSION: i64 = 8;

/// Names and metadata of the exported graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// Name of the graph input (`"input"`).
    pub input_name: String,
    /// Name of the graph output (`"output"`).
    pub output_name: String,
    /// Symbol of the batch dimension, shared by input and output (`"N"`).
    pub batch_symbol: String,
    /// Graph name (`"neurite"`).
    pub graph_name: String,
    /// `model_version` field of the file (1).
    pub model_version: i64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            input_name: String::from("input"),
            output_name: String::from("output"),
            batch_symbol: String::from("N"),
            graph_name: String::from("neurite"),
            model_version: 1,
        }
    }
}

impl ExportOptions {
    fn check(&self) -> Result<()> {
        let nonempty = [
            ("input_name", &self.input_name),
            ("output_name", &self.output_name),
            ("batch_symbol", &self.batch_symbol),
        ];
        for (option, value) in nonempty {
            if value.is_empty() {
                return Err(OnnxError::Option {
                    option,
                    value: value.clone(),
                    reason: "must not be empty",
                });
            }
        }
        if self.input_name == self.output_name {
            return Err(OnnxError::Option {
                option: "output_name",
                value: self.output_name.clone(),
                reason: "must differ from input_name",
            });
        }
        Ok(())
    }
}

/// Writes `model` as an ONNX inference graph (opset [`OPSET`], float32) to `path`.
///
/// Dense becomes `Gemm`, Conv2D `Conv` with explicit pads, the pools `MaxPool` / `AveragePool`
/// (`count_include_pad = 0`) / `GlobalAveragePool` + `Flatten`, BatchNormalization
/// `BatchNormalization` with the running statistics, activations their ONNX operators (Softmax
/// with `axis = 1`, GELU as `Erf` arithmetic); Dropout disappears. The input is
/// `[N, ..input_shape]` with a symbolic `N`.
///
/// The file is written to a temporary sibling and renamed into place, so `path` holds either
/// its old contents or the complete model.
///
/// ```
/// use neurite_onnx::{ExportOptions, export};
/// let model = neurite_layers::models::mlp::<f32>(0);
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("mlp.onnx");
/// export(&model, &path, ExportOptions::default()).unwrap();
/// assert!(std::fs::metadata(&path).unwrap().len() > 400_000); // 101,770 f32 weights
/// ```
///
/// # Errors
/// [`OnnxError::NotBuilt`], [`OnnxError::Unsupported`] naming a layer ONNX cannot express,
/// [`OnnxError::NotFinite`] for weights that are NaN/inf in f32, [`OnnxError::Option`] for bad
/// options, [`OnnxError::Io`]. Nothing is written on error.
pub fn export<F: Float>(
    model: &Sequential<F>,
    path: impl AsRef<Path>,
    options: ExportOptions,
) -> Result<()> {
    let bytes = to_bytes(model, &options)?;
    neurite_io::write_atomic(path.as_ref(), &bytes)?;
    Ok(())
}

/// The serialized ONNX model, as [`export`] would write it.
///
/// # Errors
/// As [`export`], without the I/O.
pub fn to_bytes<F: Float>(model: &Sequential<F>, options: &ExportOptions) -> Result<Vec<u8>> {
    Ok(to_model_proto(model, options)?.encode_to_vec())
}

/// The ONNX model as protobuf messages, for inspection or further editing.
///
/// # Errors
/// As [`export`], without the I/O.
pub fn to_model_proto<F: Float>(
    model: &Sequential<F>,
    options: &ExportOptions,
) -> Result<ModelProto> {
    options.check()?;
    let input_shape = model.input_shape().ok_or(OnnxError::NotBuilt)?.to_vec();
    let shapes = model.output_shapes(&input_shape)?;
    let batch = || Dim::Symbolic(options.batch_symbol.clone());
    let dims = |sample: &[usize]| {
        std::iter::once(batch())
            .chain(sample.iter().map(|&d| Dim::Fixed(d)))
            .collect::<Vec<_>>()
    };

    let mut g = GraphBuilder::new(&options.graph_name);
    g.input(&options.input_name, &dims(&input_shape))?;
    let mut value = options.input_name.clone();
    let mut sample = input_shape.as_slice();
    for (layer, out) in model.layers().iter().zip(&shapes) {
        let around = Shapes {
            input: sample,
            output: out,
        };
        value = lower_layer(&mut g, layer.as_ref(), &around, &value)?;
        sample = out;
    }
    if value == options.input_name {
        // Every layer vanished (Dropout, Linear): the graph still needs a node.
        g.node(
            "Identity",
            "output/Identity",
            &[&value],
            &[&options.output_name],
            vec![],
        )?;
    } else {
        g.rename_value(&value, &options.output_name)?;
    }
    g.output(&options.output_name, &dims(sample))?;

    let layers: Vec<String> = model.layers().iter().map(|l| l.describe()).collect();
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: String::from("neurite"),
        producer_version: String::from(env!("CARGO_PKG_VERSION")),
        domain: String::new(),
        model_version: options.model_version,
        doc_string: format!("neurite Sequential: {}", layers.join(" -> ")),
        graph: Some(g.finish()),
        metadata_props: vec![StringStringEntryProto {
            key: String::from("neurite.input_shape"),
            value: format!("{input_shape:?}"),
        }],
    })
}
