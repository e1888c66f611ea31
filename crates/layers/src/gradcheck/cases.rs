//! The random gradient-check cases of every layer and of the reference models (the `testing`
//! feature): shapes, hyper-parameters and values drawn from a seed, with inputs built so that
//! finite differences do not cross a kink.

use neurite_tensor::gradcheck::{GradCheck, STEP};
use neurite_tensor::{Padding, Rng, Tensor};

use super::{BATCH_NORM_STEP, check_layer_with_step, check_model};
use crate::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout,
    Flatten, GlobalAveragePooling2D, Layer, MaxPooling2D, Reshape, Result,
};

/// A named family of random gradient-check cases.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The layer (or model) under test: `dense`, `conv2d`, `relu`, `cnn`, ...
    pub name: &'static str,
    /// Runs one random case drawn from `seed`: shapes, hyper-parameters and values.
    pub run: fn(u64) -> Result<GradCheck>,
}

/// How many fresh inputs a case may draw before giving up on avoiding kinks.
const KINK_RETRIES: usize = 20;

/// A standard normal value at least `margin` away from 0 (ReLU-family kinks).
fn away_from_zero(rng: &mut Rng, margin: f64) -> f64 {
    loop {
        let v = rng.normal();
        if v.abs() >= margin {
            return v;
        }
    }
}

fn random_tensor(shape: &[usize], rng: &mut Rng, margin: f64) -> Tensor<f64> {
    Tensor::from_shape_simple_fn(shape, || away_from_zero(rng, margin))
}

/// Distinct values `k * 0.05` in random order (plus a small random offset): no two entries are
/// closer than 0.05, so no pooling window has a tie or a near-tie.
fn distinct_tensor(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    let len: usize = shape.iter().product();
    let order = rng.permutation(len);
    let offset = rng.uniform(-1.0, 1.0);
    let values: Vec<f64> = order
        .iter()
        .map(|&k| (k as f64 - len as f64 / 2.0) * 0.05 + offset)
        .collect();
    Tensor::from_shape_vec(shape, values).expect("length matches the shape")
}

fn range(rng: &mut Rng, low: usize, high: usize) -> usize {
    low + rng.below((high - low + 1) as u64) as usize
}

fn random_activation(rng: &mut Rng, softmax: bool) -> Activation {
    let all = [
        Activation::Linear,
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.3 },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Elu { alpha: 1.0 },
        Activation::Gelu,
        Activation::Softplus,
        Activation::Softmax,
    ];
    let n = if softmax { all.len() } else { all.len() - 1 };
    all[rng.below(n as u64) as usize]
}

/// Builds `layer` for `[batch, ..sample]`, then checks it on fresh inputs from `make_input`
/// until one has no kink crossings.
fn run_layer(
    layer: Box<dyn Layer<f64>>,
    batch: usize,
    sample: &[usize],
    rng: &mut Rng,
    make_input: &dyn Fn(&[usize], &mut Rng) -> Tensor<f64>,
) -> Result<GradCheck> {
    run_layer_with(layer, batch, sample, rng, make_input, &|_, _| (), STEP)
}

/// [`run_layer`] with `init` adjusting the parameters after `build`.
fn run_layer_with(
    mut layer: Box<dyn Layer<f64>>,
    batch: usize,
    sample: &[usize],
    rng: &mut Rng,
    make_input: &dyn Fn(&[usize], &mut Rng) -> Tensor<f64>,
    init: &dyn Fn(&mut dyn Layer<f64>, &mut Rng),
    step: f64,
) -> Result<GradCheck> {
    layer.set_name("layer");
    layer.build(sample, &mut Rng::with_stream(rng.next_u64(), 0))?;
    init(layer.as_mut(), rng);
    let mut shape = vec![batch];
    shape.extend_from_slice(sample);
    let mut last = GradCheck::default();
    for _ in 0..KINK_RETRIES {
        let input = make_input(&shape, rng);
        last = check_layer_with_step(layer.as_mut(), &input, rng, 64, step)?;
        if last.skipped == 0 {
            break;
        }
    }
    Ok(last)
}

/// A nonzero multiple of 1/4 in [-2, 2].
fn quarter(rng: &mut Rng) -> f64 {
    let k = 1 + rng.below(8) as i64;
    let sign = if rng.below(2) == 0 { 1 } else { -1 };
    (sign * k) as f64 / 4.0
}

fn quarter_input(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::from_shape_simple_fn(shape, || quarter(rng))
}

/// Kinks avoided by construction for Dense / Conv2D with a ReLU-like activation: inputs and
/// weights are multiples of 1/4, so every product sum is a multiple of 1/16, and each bias is an
/// odd multiple of 1/32; the pre-activations are then at least 1/32 away from 0, far beyond
/// what a finite-difference step moves them.
fn quantize_params(layer: &mut dyn Layer<f64>, rng: &mut Rng) {
    for p in layer.params_mut() {
        if p.name() == "bias" || p.name().ends_with(".bias") {
            p.value_mut()
                .mapv_inplace(|_| (2 * rng.below(16) as i64 - 15) as f64 / 32.0);
        } else {
            p.value_mut().mapv_inplace(|_| quarter(rng));
        }
    }
}

fn run_affine(
    layer: Box<dyn Layer<f64>>,
    kinked: bool,
    batch: usize,
    sample: &[usize],
    rng: &mut Rng,
) -> Result<GradCheck> {
    if kinked {
        run_layer_with(
            layer,
            batch,
            sample,
            rng,
            &quarter_input,
            &quantize_params,
            STEP,
        )
    } else {
        run_layer(layer, batch, sample, rng, &normal_input)
    }
}

fn normal_input(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    random_tensor(shape, rng, 1e-2)
}

fn dense_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let activation = random_activation(rng, true);
    let layer = Dense::new(range(rng, 1, 6))
        .activation(activation)
        .use_bias(activation.has_kink() || rng.below(4) != 0);
    let (batch, inputs) = (range(rng, 1, 4), range(rng, 1, 8));
    run_affine(
        Box::new(layer),
        activation.has_kink(),
        batch,
        &[inputs],
        rng,
    )
}

fn random_padding(rng: &mut Rng) -> Padding {
    match rng.below(3) {
        0 => Padding::Valid,
        1 => Padding::Same,
        _ => Padding::Explicit([
            range(rng, 0, 1),
            range(rng, 0, 1),
            range(rng, 0, 1),
            range(rng, 0, 1),
        ]),
    }
}

fn conv2d_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let kernel = (range(rng, 1, 3), range(rng, 1, 3));
    let activation = random_activation(rng, true);
    let layer = Conv2D::new(range(rng, 1, 4), kernel)
        .strides((range(rng, 1, 2), range(rng, 1, 2)))
        .padding(random_padding(rng))
        .activation(activation)
        .use_bias(activation.has_kink() || rng.below(4) != 0);
    // Planes up to 11x11 reach both strategies (per sample from 64 output positions), and
    // batches up to 10 span more than one chunk of partial weight gradients.
    let sample = [range(rng, 1, 3), range(rng, 3, 11), range(rng, 3, 11)];
    let batch = range(rng, 1, 10);
    run_affine(Box::new(layer), activation.has_kink(), batch, &sample, rng)
}

fn pool_params(rng: &mut Rng) -> ((usize, usize), (usize, usize), Padding, [usize; 3]) {
    let pool = (range(rng, 1, 3), range(rng, 1, 3));
    let strides = (range(rng, 1, 3), range(rng, 1, 3));
    let padding = if rng.below(2) == 0 {
        Padding::Valid
    } else {
        Padding::Same
    };
    let sample = [range(rng, 1, 2), range(rng, 3, 6), range(rng, 3, 6)];
    (pool, strides, padding, sample)
}

fn max_pool_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let (pool, strides, padding, sample) = pool_params(rng);
    let layer = MaxPooling2D::new(pool).strides(strides).padding(padding);
    run_layer(
        Box::new(layer),
        range(rng, 1, 2),
        &sample,
        rng,
        &distinct_tensor,
    )
}

fn avg_pool_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let (pool, strides, padding, sample) = pool_params(rng);
    let layer = AveragePooling2D::new(pool)
        .strides(strides)
        .padding(padding);
    run_layer(
        Box::new(layer),
        range(rng, 1, 2),
        &sample,
        rng,
        &normal_input,
    )
}

fn global_avg_pool_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let sample = [range(rng, 1, 3), range(rng, 1, 5), range(rng, 1, 5)];
    let layer = GlobalAveragePooling2D::new();
    run_layer(
        Box::new(layer),
        range(rng, 1, 3),
        &sample,
        rng,
        &normal_input,
    )
}

fn flatten_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let sample: Vec<usize> = (0..range(rng, 1, 3)).map(|_| range(rng, 1, 4)).collect();
    run_layer(
        Box::new(Flatten::new()),
        range(rng, 1, 3),
        &sample,
        rng,
        &normal_input,
    )
}

fn reshape_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let (a, b) = (range(rng, 1, 4), range(rng, 1, 4));
    let target: &[i64] = if rng.below(2) == 0 {
        &[-1, 2]
    } else {
        &[2, -1, 1]
    };
    let layer = Reshape::new(target);
    run_layer(
        Box::new(layer),
        range(rng, 1, 3),
        &[a, 2 * b],
        rng,
        &normal_input,
    )
}

fn dropout_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let layer = Dropout::new(rng.uniform(0.0, 0.8));
    let sample = [range(rng, 1, 6), range(rng, 1, 4)];
    run_layer(
        Box::new(layer),
        range(rng, 1, 3),
        &sample,
        rng,
        &normal_input,
    )
}

fn batch_norm_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let mut layer = BatchNormalization::new().momentum(rng.uniform(0.0, 1.0));
    // Non-trivial gamma and beta, so their gradients are not checked only at the identity.
    let sample: Vec<usize> = if rng.below(2) == 0 {
        vec![range(rng, 1, 4)]
    } else {
        vec![range(rng, 1, 3), range(rng, 1, 3), range(rng, 1, 3)]
    };
    layer.build(&sample, &mut Rng::new(0))?;
    for p in Layer::params_mut(&mut layer) {
        if p.is_trainable() {
            p.value_mut().mapv_inplace(|_| rng.uniform(0.5, 1.5));
        }
    }
    let batch = range(rng, 2, 4);
    let init = |_: &mut dyn Layer<f64>, _: &mut Rng| ();
    run_layer_with(
        Box::new(layer),
        batch,
        &sample,
        rng,
        &normal_input,
        &init,
        BATCH_NORM_STEP,
    )
}

fn activation_case(activation: Activation, seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let sample: Vec<usize> = (0..range(rng, 1, 3)).map(|_| range(rng, 1, 4)).collect();
    let layer = ActivationLayer::new(activation);
    run_layer(
        Box::new(layer),
        range(rng, 1, 3),
        &sample,
        rng,
        &normal_input,
    )
}

/// The reference cnn on `[2, 1, 18, 18]` inputs (the smallest size its three convolutions and
/// two poolings accept), 24 entries per parameter tensor.
fn cnn_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let mut model = crate::models::cnn_layers::<f64>(rng.next_u64());
    model.build(&[1, 18, 18])?;
    let input = distinct_tensor(&[2, 1, 18, 18], rng).mapv(|v| v * 0.1);
    check_model(&mut model, &input, rng, 24)
}

/// The reference mlp (with its dropout) on `[2, 1, 6, 6]` inputs.
fn mlp_case(seed: u64) -> Result<GradCheck> {
    let rng = &mut Rng::new(seed);
    let mut model = crate::models::mlp_layers::<f64>(rng.next_u64());
    model.build(&[1, 6, 6])?;
    let input = normal_input(&[2, 1, 6, 6], rng);
    check_model(&mut model, &input, rng, 24)
}

macro_rules! activation_cases {
    ($($name:literal => $act:expr),* $(,)?) => {
        [$(Case { name: $name, run: |seed| activation_case($act, seed) }),*]
    };
}

/// Every layer's random case, one per layer type (and one per activation function).
pub fn layer_cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            name: "dense",
            run: dense_case,
        },
        Case {
            name: "conv2d",
            run: conv2d_case,
        },
        Case {
            name: "max_pooling2d",
            run: max_pool_case,
        },
        Case {
            name: "average_pooling2d",
            run: avg_pool_case,
        },
        Case {
            name: "global_average_pooling2d",
            run: global_avg_pool_case,
        },
        Case {
            name: "flatten",
            run: flatten_case,
        },
        Case {
            name: "reshape",
            run: reshape_case,
        },
        Case {
            name: "dropout",
            run: dropout_case,
        },
        Case {
            name: "batch_normalization",
            run: batch_norm_case,
        },
    ];
    cases.extend(activation_cases![
        "relu" => Activation::Relu,
        "leaky_relu" => Activation::LeakyRelu { alpha: 0.3 },
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "softmax" => Activation::Softmax,
        "elu" => Activation::Elu { alpha: 1.0 },
        "elu_alpha" => Activation::Elu { alpha: 0.5 },
        "gelu" => Activation::Gelu,
        "softplus" => Activation::Softplus,
        "linear" => Activation::Linear,
    ]);
    cases
}

/// Whole reference models end to end (parameters only; kink crossings are skipped and counted).
/// A model has thousands of ReLUs and pooling windows, so some steps cross a kink somewhere;
/// [`model_check_passed`] accepts a report when at most a third of the entries were skipped.
pub fn model_cases() -> Vec<Case> {
    vec![
        Case {
            name: "model:mlp",
            run: mlp_case,
        },
        Case {
            name: "model:cnn",
            run: cnn_case,
        },
    ]
}

/// Whether a whole-model report passes: every compared entry within tolerance, and at most a
/// third of the sampled entries skipped at kinks.
pub fn model_check_passed(report: &GradCheck) -> bool {
    report.passed() && report.skipped * 2 <= report.checked
}
