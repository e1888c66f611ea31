//! The structure of exported graphs: operators, attributes, names, shapes, weights, and the
//! errors (with nothing written). Numerical agreement with real runtimes is tested in
//! `tests/tests/onnx_tract.rs` and by `cargo xtask verify-onnx`.

use std::fs;

use neurite_layers::{
    Activation, ActivationLayer, AveragePooling2D, Conv2D, Dense, Dropout, Flatten, Layer,
    MaxPooling2D, Sequential, models,
};
use neurite_onnx::proto::{
    AttributeProto, DATA_TYPE_FLOAT, ModelProto, NodeProto, TensorProto, tensor_shape_proto,
    type_proto,
};
use neurite_onnx::{ExportOptions, IR_VERSION, OPSET, OnnxError, export, samples, to_model_proto};
use neurite_tensor::Padding;

fn proto(model: &Sequential<f32>) -> ModelProto {
    to_model_proto(model, &ExportOptions::default()).unwrap()
}

fn ops(m: &ModelProto) -> Vec<&str> {
    m.graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .map(|n| n.op_type.as_str())
        .collect()
}

fn node<'a>(m: &'a ModelProto, op: &str) -> &'a NodeProto {
    m.graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .find(|n| n.op_type == op)
        .unwrap()
}

fn attr<'a>(n: &'a NodeProto, name: &str) -> &'a AttributeProto {
    n.attribute
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("{name} on {}", n.name))
}

fn initializer<'a>(m: &'a ModelProto, name: &str) -> &'a TensorProto {
    m.graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .find(|t| t.name == name)
        .unwrap()
}

/// The dims of a graph input/output as strings: symbols verbatim, numbers printed.
fn dims(v: &neurite_onnx::proto::ValueInfoProto) -> Vec<String> {
    use tensor_shape_proto::dimension::Value;
    let Some(type_proto::Value::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.clone())
    else {
        panic!("not a tensor type")
    };
    assert_eq!(t.elem_type, DATA_TYPE_FLOAT);
    t.shape
        .unwrap()
        .dim
        .into_iter()
        .map(|d| match d.value {
            Some(Value::DimValue(n)) => n.to_string(),
            Some(Value::DimParam(s)) => s,
            None => String::from("?"),
        })
        .collect()
}

#[test]
fn mlp_is_flatten_gemm_relu_gemm_softmax_without_dropout() {
    let model = models::mlp::<f32>(0);
    let m = proto(&model);
    assert_eq!(
        (m.ir_version, m.opset_import[0].version),
        (IR_VERSION, OPSET)
    );
    assert_eq!(OPSET, 17);
    assert_eq!(ops(&m), ["Flatten", "Gemm", "Relu", "Gemm", "Softmax"]);
    let g = m.graph.as_ref().unwrap();
    assert_eq!(g.input[0].name, "input");
    assert_eq!(dims(&g.input[0]), ["N", "1", "28", "28"]);
    assert_eq!(g.output[0].name, "output");
    assert_eq!(dims(&g.output[0]), ["N", "10"]);
    assert_eq!(g.node.last().unwrap().output, ["output"]);
    assert_eq!(attr(node(&m, "Gemm"), "transB").i, 1);
    assert_eq!(attr(node(&m, "Softmax"), "axis").i, 1);
    assert_eq!(attr(node(&m, "Flatten"), "axis").i, 1);
}

#[test]
fn weights_are_stored_bit_for_bit() {
    let model = models::mlp::<f32>(7);
    let m = proto(&model);
    for (name, p) in model.params() {
        let t = initializer(&m, &name.replace('.', "/"));
        let dims: Vec<i64> = p.value().shape().iter().map(|&d| d as i64).collect();
        assert_eq!(t.dims, dims, "{name}");
        let raw: Vec<u8> = p.value().iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(t.raw_data == raw, "{name}: bytes differ");
    }
}

#[test]
fn f64_models_export_as_rounded_f32() {
    let model = models::xor::<f64>(1);
    let m = to_model_proto(&model, &ExportOptions::default()).unwrap();
    let p = model.param("dense.weight").unwrap();
    let t = initializer(&m, "dense/weight");
    let first = f32::from_le_bytes(t.raw_data[..4].try_into().unwrap());
    assert_eq!(first, p.value().iter().next().copied().unwrap() as f32);
    assert_eq!(ops(&m), ["Gemm", "Sigmoid", "Gemm", "Sigmoid"]);
}

#[test]
fn same_padding_becomes_explicit_pads_with_the_extra_row_at_the_bottom() {
    let mut model = Sequential::<f32>::new().add(
        Conv2D::new(2, (3, 3))
            .strides((2, 2))
            .padding(Padding::Same)
            .activation(Activation::Tanh),
    );
    model.build(&[1, 6, 6]).unwrap();
    let m = proto(&model);
    assert_eq!(ops(&m), ["Conv", "Tanh"]);
    let conv = node(&m, "Conv");
    // out = ceil(6 / 2) = 3; total pad = (3 - 1) * 2 + 3 - 6 = 1, all of it bottom/right.
    assert_eq!(attr(conv, "pads").ints, [0, 0, 1, 1]);
    assert_eq!(attr(conv, "strides").ints, [2, 2]);
    assert_eq!(attr(conv, "kernel_shape").ints, [3, 3]);
    assert_eq!(initializer(&m, "conv2d/weight").dims, [2, 1, 3, 3]);
    assert_eq!(
        dims(&m.graph.as_ref().unwrap().output[0]),
        ["N", "2", "3", "3"]
    );
}

#[test]
fn explicit_conv_pads_keep_their_order() {
    let mut model = Sequential::<f32>::new()
        .add(Conv2D::new(1, (2, 2)).padding(Padding::Explicit([1, 2, 3, 0])));
    model.build(&[1, 4, 4]).unwrap();
    // neurite and ONNX both order 2-D pads [top, left, bottom, right].
    assert_eq!(
        attr(node(&proto(&model), "Conv"), "pads").ints,
        [1, 2, 3, 0]
    );
}

#[test]
fn every_layer_model_uses_every_operator() {
    let model = samples::every_layer::<f32>(0).unwrap();
    let m = proto(&model);
    let ops = ops(&m);
    for op in [
        "Conv",
        "Erf",
        "BatchNormalization",
        "LeakyRelu",
        "MaxPool",
        "Elu",
        "AveragePool",
        "Tanh",
        "Softplus",
        "Softmax",
        "Flatten",
        "Gemm",
        "Sigmoid",
        "Reshape",
        "GlobalAveragePool",
        "Relu",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    assert!(!ops.contains(&"Dropout"));
    assert_eq!(attr(node(&m, "AveragePool"), "count_include_pad").i, 0);
    assert_eq!(attr(node(&m, "AveragePool"), "pads").ints, [1, 1, 1, 1]);
    assert_eq!(attr(node(&m, "MaxPool"), "pads").ints, [0, 0, 1, 1]);
    let elu = node(&m, "Elu");
    assert!((attr(elu, "alpha").f - 0.7).abs() < 1e-7);
    let bn = node(&m, "BatchNormalization");
    assert_eq!(bn.input.len(), 5);
    assert!((attr(bn, "epsilon").f - 1e-3).abs() < 1e-9);
    // Reshape's target is resolved per sample, with -1 for the batch.
    let shape = initializer(&m, "reshape/shape");
    let target: Vec<i64> = shape
        .raw_data
        .chunks(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(target, [-1, 6, 2, 2]);
    // The Dense without bias has a two-input Gemm.
    let gemm_no_bias = m
        .graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .find(|n| n.name == "dense_1/Gemm")
        .unwrap();
    assert_eq!(gemm_no_bias.input.len(), 2);
}

#[test]
fn gelu_is_decomposed_with_erf() {
    let mut model = Sequential::<f32>::new().add(ActivationLayer::gelu());
    model.build(&[3]).unwrap();
    let m = proto(&model);
    assert_eq!(ops(&m), ["Div", "Erf", "Add", "Mul", "Mul"]);
    let sqrt2 = initializer(&m, "gelu/gelu_sqrt2");
    assert!(sqrt2.dims.is_empty(), "a scalar");
    assert_eq!(sqrt2.raw_data, std::f32::consts::SQRT_2.to_le_bytes());
}

#[test]
fn a_graph_of_only_dropout_gets_an_identity_node() {
    let mut model = Sequential::<f32>::new()
        .add(Dropout::new(0.5))
        .add(ActivationLayer::linear());
    model.build(&[4]).unwrap();
    let m = proto(&model);
    assert_eq!(ops(&m), ["Identity"]);
    let g = m.graph.as_ref().unwrap();
    assert_eq!(
        (g.node[0].input[0].as_str(), g.node[0].output[0].as_str()),
        ("input", "output")
    );
}

#[test]
fn custom_names_are_used() {
    let model = models::regression::<f32>(0);
    let options = ExportOptions {
        input_name: "features".into(),
        output_name: "price".into(),
        batch_symbol: "batch".into(),
        ..ExportOptions::default()
    };
    let m = to_model_proto(&model, &options).unwrap();
    let g = m.graph.as_ref().unwrap();
    assert_eq!(dims(&g.input[0]), ["batch", "10"]);
    assert_eq!(g.node[0].input[0], "features");
    assert_eq!(g.output[0].name, "price");
}

#[test]
fn bad_options_are_refused() {
    let model = models::regression::<f32>(0);
    for options in [
        ExportOptions {
            input_name: String::new(),
            ..ExportOptions::default()
        },
        ExportOptions {
            output_name: "input".into(),
            ..ExportOptions::default()
        },
        ExportOptions {
            batch_symbol: String::new(),
            ..ExportOptions::default()
        },
        // Collides with a weight's name.
        ExportOptions {
            input_name: "dense/weight".into(),
            ..ExportOptions::default()
        },
    ] {
        assert!(to_model_proto(&model, &options).is_err(), "{options:?}");
    }
}

#[test]
fn an_unbuilt_model_is_an_error() {
    let model = models::mlp_layers::<f32>(0);
    let err = to_model_proto(&model, &ExportOptions::default()).unwrap_err();
    assert!(matches!(err, OnnxError::NotBuilt), "{err}");
}

#[test]
fn pooling_pads_as_large_as_the_window_are_refused_by_name_and_nothing_is_written() {
    let mut model = Sequential::<f32>::new()
        .add(Flatten::new())
        .add(Dense::new(4));
    model.build(&[2]).unwrap();
    let mut pool = AveragePooling2D::new((2, 2)).padding(Padding::Explicit([2, 0, 0, 0]));
    pool.set_name("wide_pool");
    let mut pool_model = Sequential::<f32>::new().add(pool);
    pool_model.build(&[1, 3, 3]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    let err = export(&pool_model, &path, ExportOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, OnnxError::Unsupported { .. }), "{msg}");
    assert!(
        msg.contains("wide_pool") && msg.contains("AveragePool"),
        "{msg}"
    );
    assert!(!path.exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp file left"
    );

    let mut max_model = Sequential::<f32>::new()
        .add(MaxPooling2D::new((2, 2)).padding(Padding::Explicit([0, 0, 0, 3])));
    max_model.build(&[1, 3, 3]).unwrap();
    assert!(to_model_proto(&max_model, &ExportOptions::default()).is_err());
    // The model that *is* exportable still is.
    export(&model, &path, ExportOptions::default()).unwrap();
}

#[test]
fn non_finite_weights_are_refused_and_the_old_file_survives() {
    let mut model = models::regression::<f32>(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    export(&model, &path, ExportOptions::default()).unwrap();
    let before = fs::read(&path).unwrap();
    let mut w = model.param("dense_1.weight").unwrap().value().clone();
    w[[0, 3]] = f32::NAN;
    model.set_param("dense_1.weight", w).unwrap();
    let err = export(&model, &path, ExportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("dense_1/weight"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn write_failures_are_io_errors_naming_the_path() {
    let model = models::xor::<f32>(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_such_dir").join("m.onnx");
    let err = export(&model, &path, ExportOptions::default()).unwrap_err();
    assert!(
        matches!(err, OnnxError::Io { .. }) && err.to_string().contains("no_such_dir"),
        "{err}"
    );
}

#[test]
fn reference_set_is_written_with_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let written = samples::write_reference_set(dir.path(), 3, 1).unwrap();
    let names: Vec<_> = written.iter().map(|w| w.name).collect();
    assert_eq!(names, ["mlp", "cnn", "every_layer", "channel_softmax"]);
    assert_eq!(written[0].input_shape, [3, 1, 28, 28]);
    assert_eq!(written[1].output_shape, [3, 10]);
    let manifest = fs::read_to_string(dir.path().join("manifest.json")).unwrap();
    assert!(
        manifest.contains(r#""input_shape": [3, 2, 9, 9]"#),
        "{manifest}"
    );
    let out = fs::read(dir.path().join("cnn.output.f32")).unwrap();
    assert_eq!(out.len(), 3 * 10 * 4);
    // Softmax rows sum to one: the outputs were written in order.
    let probs: Vec<f32> = out
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert!((probs[..10].iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn samples_give_distinct_inputs_per_seed() {
    let model = models::xor::<f32>(0);
    let a = samples::input_batch(&model, 2, 1).unwrap();
    let b = samples::input_batch(&model, 2, 2).unwrap();
    assert_eq!(a.shape(), [2, 3]);
    assert_ne!(a, b);
    let unbuilt = models::mlp_layers::<f32>(0);
    assert!(samples::input_batch(&unbuilt, 1, 0).is_err());
}
