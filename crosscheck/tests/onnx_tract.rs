//! The exported reference models run in tract (an independent ONNX runtime) and agree with
//! neurite's inference-mode forward pass to 1e-5, at two batch sizes through one loaded model
//! (the batch dimension is symbolic).

use neurite_layers::{Mode, Sequential};
use neurite_onnx::{ExportOptions, export, samples};
use tract_onnx::prelude::*;

const TOLERANCE: f32 = 1e-5;

/// Runs `path` in tract on `x` and returns the output with its shape.
fn tract_run(
    model: &Arc<TypedRunnableModel>,
    x: &ndarray::ArrayD<f32>,
) -> TractResult<(Vec<usize>, Vec<f32>)> {
    let input =
        tract_ndarray::ArrayD::from_shape_vec(x.shape().to_vec(), x.iter().copied().collect())?;
    let outputs = model.run(tvec!(Tensor::from(input).into()))?;
    let y = outputs[0].to_plain_array_view::<f32>()?;
    Ok((y.shape().to_vec(), y.iter().copied().collect()))
}

fn load(path: &std::path::Path) -> TractResult<Arc<TypedRunnableModel>> {
    tract_onnx::onnx()
        .model_for_path(path)?
        .into_optimized()?
        .into_runnable()
}

/// Exports `model`, runs it in tract at batch sizes 5 and 1, and returns the largest absolute
/// difference from neurite.
fn max_diff_against_tract(name: &str, model: &mut Sequential<f32>) -> f32 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.onnx"));
    export(model, &path, ExportOptions::default()).unwrap();
    let runnable = load(&path).unwrap_or_else(|e| panic!("tract cannot load {name}: {e:?}"));
    let mut worst = 0.0f32;
    for (batch, seed) in [(5, 11), (1, 12)] {
        let x = samples::input_batch(model, batch, seed).unwrap();
        let want = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
        let (shape, got) =
            tract_run(&runnable, &x).unwrap_or_else(|e| panic!("tract run {name}: {e:?}"));
        assert_eq!(shape, want.shape(), "{name}: output shape");
        for (g, w) in got.iter().zip(want.iter()) {
            assert!(g.is_finite(), "{name}: tract produced {g}");
            worst = worst.max((g - w).abs());
        }
    }
    println!("{name}: max abs diff neurite vs tract = {worst:.3e}");
    worst
}

#[test]
fn mlp_matches_tract() {
    let mut model = neurite_layers::models::mlp::<f32>(3);
    assert!(max_diff_against_tract("mlp", &mut model) <= TOLERANCE);
}

#[test]
fn cnn_matches_tract() {
    let mut model = neurite_layers::models::cnn::<f32>(4);
    assert!(max_diff_against_tract("cnn", &mut model) <= TOLERANCE);
}

#[test]
fn every_exportable_layer_matches_tract() {
    let mut model = samples::every_layer::<f32>(5).unwrap();
    assert!(max_diff_against_tract("every_layer", &mut model) <= TOLERANCE);
}

#[test]
fn xor_and_regression_match_tract() {
    let mut xor = neurite_layers::models::xor::<f32>(6);
    assert!(max_diff_against_tract("xor", &mut xor) <= TOLERANCE);
    let mut regression = neurite_layers::models::regression::<f32>(7);
    assert!(max_diff_against_tract("regression", &mut regression) <= TOLERANCE);
}

#[test]
fn exported_input_keeps_a_symbolic_batch() {
    let model = neurite_layers::models::mlp::<f32>(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.onnx");
    export(&model, &path, ExportOptions::default()).unwrap();
    let inference = tract_onnx::onnx().model_for_path(&path).unwrap();
    let fact = format!("{:?}", inference.input_fact(0).unwrap());
    assert!(fact.contains('N') && fact.contains("28"), "{fact}");
}

#[test]
fn channel_softmax_matches_tract() {
    let mut model = samples::channel_softmax::<f32>(8).unwrap();
    assert!(max_diff_against_tract("channel_softmax", &mut model) <= TOLERANCE);
}

/// The comparison above is only meaningful if the output really depends on the input: a
/// model that squashed everything to a constant would agree with any runtime.
#[test]
fn every_layer_output_varies_with_the_input() {
    let mut model = samples::every_layer::<f32>(5).unwrap();
    let x = samples::input_batch(&model, 16, 11).unwrap();
    let y = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
    let spread = (0..y.shape()[1])
        .map(|j| {
            let col = y.index_axis(ndarray::Axis(1), j);
            col.fold(f32::MIN, |a, &b| a.max(b)) - col.fold(f32::MAX, |a, &b| a.min(b))
        })
        .fold(0.0f32, f32::max);
    println!("every_layer output spread over 16 inputs: {spread:.3e}\n{y:?}");
    // 2e-2 measured: three orders of magnitude above the tolerance.
    assert!(spread > 0.01, "spread {spread}");
}

/// An edit of an exported model that a buggy exporter could have made.
type Mutation = fn(&mut neurite_onnx::proto::ModelProto);

/// Realistic export mistakes (a pad on the wrong side, padding cells counted in averages, the
/// BatchNorm mean and variance swapped) change the every-layer model's tract output by far more
/// than the tolerance, so the agreement above is evidence and not luck.
#[test]
fn export_mistakes_would_be_caught() {
    use prost::Message;

    let mut model = samples::every_layer::<f32>(5).unwrap();
    let x = samples::input_batch(&model, 8, 11).unwrap();
    let want = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
    let proto = neurite_onnx::to_model_proto(&model, &ExportOptions::default()).unwrap();
    let mutations: [(&str, Mutation); 3] = [
        ("max-pool pads moved to the top-left", |m| {
            let node = m
                .graph
                .as_mut()
                .unwrap()
                .node
                .iter_mut()
                .find(|n| n.op_type == "MaxPool");
            let pads = node
                .unwrap()
                .attribute
                .iter_mut()
                .find(|a| a.name == "pads")
                .unwrap();
            pads.ints = vec![1, 1, 0, 0];
        }),
        ("count_include_pad = 1", |m| {
            let node = m
                .graph
                .as_mut()
                .unwrap()
                .node
                .iter_mut()
                .find(|n| n.op_type == "AveragePool");
            let attr = node
                .unwrap()
                .attribute
                .iter_mut()
                .find(|a| a.name == "count_include_pad");
            attr.unwrap().i = 1;
        }),
        ("BatchNorm mean and variance swapped", |m| {
            let node = m
                .graph
                .as_mut()
                .unwrap()
                .node
                .iter_mut()
                .find(|n| n.op_type == "BatchNormalization");
            node.unwrap().input.swap(3, 4);
        }),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, mutate) in mutations {
        let mut wrong = proto.clone();
        mutate(&mut wrong);
        let path = dir.path().join("wrong.onnx");
        std::fs::write(&path, wrong.encode_to_vec()).unwrap();
        let (_, got) = tract_run(&load(&path).unwrap(), &x).unwrap();
        let diff = got
            .iter()
            .zip(want.iter())
            .map(|(g, w)| (g - w).abs())
            .fold(0.0f32, f32::max);
        println!("{what}: max abs diff {diff:.3e}");
        assert!(diff > 100.0 * TOLERANCE, "{what} went unnoticed ({diff:e})");
    }
}
