//! The models the exporter is verified with, shared by the tract test and
//! `cargo xtask verify-onnx` so both runtimes see the same graphs.

use ndarray::IxDyn;
use neurite_layers::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout,
    Flatten, GlobalAveragePooling2D, LayerError, MaxPooling2D, Reshape, Sequential, models,
};
use neurite_tensor::{Float, Padding, Rng, Tensor};

/// Factor applied to [`every_layer`]'s initial weights.
const WEIGHT_GAIN: f64 = 3.0;

/// Per-sample input shape of [`every_layer`].
pub const EVERY_LAYER_INPUT: [usize; 3] = [2, 9, 9];

/// A model that uses every exportable layer and activation at least once, with padding and
/// stride settings that exercise the pad arithmetic (`same` with an odd total, explicit
/// asymmetric pads, average pooling windows that overlap the border), BatchNormalization on
/// both 4-D and 2-D inputs with non-trivial running statistics, and Softmax over the channels of
/// a 4-D tensor.
///
/// ```
/// let model = neurite_onnx::samples::every_layer::<f32>(1).unwrap();
/// assert_eq!(model.output_shape(), Some(&[4][..]));
/// ```
///
/// # Errors
/// Only if the layer crate changes what these layers accept (a bug, reported as a
/// [`LayerError`]).
pub fn every_layer<F: Float>(seed: u64) -> Result<Sequential<F>, LayerError> {
    // Layer order keeps the signal at unit scale up to the output, so an error in any layer
    // moves the output by far more than the 1e-5 tolerance (tested).
    let mut model = Sequential::with_seed(seed)
        .add(
            Conv2D::new(4, (3, 3))
                .padding(Padding::Same)
                .activation(Activation::Gelu),
        )
        .add(BatchNormalization::new())
        .add(ActivationLayer::leaky_relu(0.1))
        .add(MaxPooling2D::new((2, 2)).padding(Padding::Same))
        .add(
            Conv2D::new(6, (2, 2))
                .padding(Padding::Explicit([1, 0, 0, 1]))
                .activation(Activation::Elu { alpha: 0.7 }),
        )
        .add(
            AveragePooling2D::new((3, 3))
                .strides((2, 2))
                .padding(Padding::Same),
        )
        .add(Dropout::new(0.3))
        .add(Conv2D::new(8, (1, 1)).activation(Activation::Softplus))
        .add(ActivationLayer::tanh())
        .add(Flatten::new())
        .add(Dense::new(24).activation(Activation::Sigmoid))
        .add(Reshape::new(&[6, -1, 2]))
        .add(GlobalAveragePooling2D::new())
        .add(BatchNormalization::new())
        .add(Dense::new(8).use_bias(false))
        .add(ActivationLayer::linear())
        .add(ActivationLayer::gelu())
        .add(ActivationLayer::relu())
        .add(Dense::new(6))
        .add(ActivationLayer::elu(1.0))
        .add(ActivationLayer::new(Activation::Softplus))
        .add(ActivationLayer::sigmoid())
        .add(Dense::new(4))
        .add(ActivationLayer::softmax());
    model.build(&EVERY_LAYER_INPUT)?;
    // Fresh BatchNorm statistics are 0 and 1, which would hide a swapped mean and variance.
    let mut rng = Rng::with_stream(seed, 1_000);
    let names: Vec<(String, Vec<usize>)> = model
        .params()
        .iter()
        .filter(|(name, _)| name.starts_with("batch_normalization"))
        .map(|(name, p)| (name.clone(), p.value().shape().to_vec()))
        .collect();
    // Glorot-scaled weights shrink the input-to-input variation at every layer; a gain keeps it
    // at unit scale through 20 layers.
    let weights: Vec<String> = model
        .params()
        .iter()
        .filter(|(name, _)| name.ends_with(".weight"))
        .map(|(name, _)| name.clone())
        .collect();
    for name in weights {
        let scaled = model
            .param(&name)?
            .value()
            .mapv(|w| w * F::from_f64(WEIGHT_GAIN));
        model.set_param(&name, scaled)?;
    }
    for (name, shape) in names {
        let positive = name.ends_with("moving_variance") || name.ends_with("gamma");
        let value = Tensor::from_shape_fn(IxDyn(&shape), |_| {
            let u = rng.uniform(0.2, 1.5);
            F::from_f64(if positive { u } else { u - 0.85 })
        });
        model.set_param(&name, value)?;
    }
    Ok(model)
}

/// Per-sample input shape of [`channel_softmax`].
pub const CHANNEL_SOFTMAX_INPUT: [usize; 3] = [3, 9, 9];

/// Conv2D(5, 3x3, stride 2) followed by a Softmax over the channels of the 4-D output (ONNX
/// `Softmax(axis = 1)` on NCHW).
///
/// # Errors
/// As [`every_layer`].
pub fn channel_softmax<F: Float>(seed: u64) -> Result<Sequential<F>, LayerError> {
    let mut model = Sequential::with_seed(seed)
        .add(Conv2D::new(5, (3, 3)).strides((2, 2)))
        .add(ActivationLayer::softmax());
    model.build(&CHANNEL_SOFTMAX_INPUT)?;
    Ok(model)
}

/// The exporter's reference set: `mlp`, `cnn`, `every_layer` and `channel_softmax`.
///
/// # Errors
/// As [`every_layer`].
pub fn reference_models<F: Float>(
    seed: u64,
) -> Result<Vec<(&'static str, Sequential<F>)>, LayerError> {
    Ok(vec![
        ("mlp", models::mlp(seed)),
        ("cnn", models::cnn(seed)),
        ("every_layer", every_layer(seed)?),
        ("channel_softmax", channel_softmax(seed)?),
    ])
}

/// A batch of `batch` standard-normal inputs for `model` (which must be built).
///
/// # Errors
/// [`LayerError::NotBuilt`] for an unbuilt model.
pub fn input_batch<F: Float>(
    model: &Sequential<F>,
    batch: usize,
    seed: u64,
) -> Result<Tensor<F>, LayerError> {
    let sample = model.input_shape().ok_or_else(|| LayerError::NotBuilt {
        layer: String::from("Sequential"),
    })?;
    let mut shape = vec![batch];
    shape.extend_from_slice(sample);
    let mut rng = Rng::new(seed);
    Ok(Tensor::from_shape_fn(IxDyn(&shape), |_| {
        F::from_f64(rng.normal())
    }))
}

/// What [`write_reference_set`] wrote for one model.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenModel {
    /// `mlp`, `cnn` or `every_layer`.
    pub name: &'static str,
    /// The ONNX file.
    pub onnx: std::path::PathBuf,
    /// Input batch shape.
    pub input_shape: Vec<usize>,
    /// Output batch shape.
    pub output_shape: Vec<usize>,
}

/// Exports the [`reference_models`] into `dir` for an outside runtime to check: for each model
/// `<name>.onnx`, `<name>.input.f32` (a batch of `batch` inputs) and `<name>.output.f32`
/// (neurite's inference-mode output on it), both raw little-endian f32, plus `manifest.json`
/// listing them with their shapes (read by `crates/onnx/scripts/verify_onnx.py`).
///
/// # Errors
/// [`crate::OnnxError`] from the export, the forward pass or the file writes.
pub fn write_reference_set(
    dir: &std::path::Path,
    batch: usize,
    seed: u64,
) -> crate::Result<Vec<WrittenModel>> {
    use neurite_layers::Mode;
    let mut written = Vec::new();
    let mut entries = Vec::new();
    for (name, mut model) in reference_models::<f32>(seed)? {
        let x = input_batch(&model, batch, seed.wrapping_add(1))?;
        let y = model.forward(x.view(), Mode::Infer)?.to_owned();
        let onnx = dir.join(format!("{name}.onnx"));
        crate::export(&model, &onnx, crate::ExportOptions::default())?;
        let raw = |t: &Tensor<f32>| t.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        neurite_io::write_atomic(&dir.join(format!("{name}.input.f32")), &raw(&x))?;
        neurite_io::write_atomic(&dir.join(format!("{name}.output.f32")), &raw(&y))?;
        entries.push(format!(
            r#"{{"name": "{name}", "onnx": "{name}.onnx", "input": "{name}.input.f32", "input_shape": {:?}, "output": "{name}.output.f32", "output_shape": {:?}}}"#,
            x.shape(),
            y.shape()
        ));
        written.push(WrittenModel {
            name,
            onnx,
            input_shape: x.shape().to_vec(),
            output_shape: y.shape().to_vec(),
        });
    }
    let manifest = format!("{{\"models\": [\n  {}\n]}}\n", entries.join(",\n  "));
    neurite_io::write_atomic(&dir.join("manifest.json"), manifest.as_bytes())?;
    Ok(written)
}
