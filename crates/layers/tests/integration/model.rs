//! Sequential models: reference architectures, summary, shape errors, configs, parameters,
//! determinism and the fused softmax backward.

use ndarray::{ArrayD, IxDyn};
use neurite_layers::{
    Activation, ActivationLayer, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Layer,
    LayerError, Mode, Reshape, Sequential, models,
};
use neurite_tensor::{Rng, Tensor};

fn random(shape: &[usize], seed: u64) -> Tensor<f64> {
    let mut rng = Rng::new(seed);
    Tensor::from_shape_simple_fn(IxDyn(shape), || rng.normal())
}

#[test]
fn reference_parameter_counts() {
    assert_eq!(models::cnn::<f32>(0).param_count(), (93_322, 93_322));
    assert_eq!(models::mlp::<f32>(0).param_count(), (101_770, 101_770));
    assert_eq!(models::xor::<f32>(0).param_count().0, 21);
    assert_eq!(models::regression::<f32>(0).param_count().0, 121);
}

#[test]
fn cnn_summary_is_keras_like() {
    let summary = models::cnn::<f32>(0).summary().unwrap();
    let text = summary.to_string();
    println!("{text}");
    assert!(text.contains("conv2d (Conv2D)"), "{text}");
    assert!(text.contains("(None, 32, 26, 26)"), "{text}");
    assert!(text.contains("conv2d_2 (Conv2D)"), "{text}");
    assert!(text.contains("max_pooling2d_1 (MaxPooling2D)"), "{text}");
    assert!(text.contains("dense_1 (Dense)"), "{text}");
    assert!(text.contains("Total params: 93,322"), "{text}");
    assert!(text.contains("Non-trainable params: 0"), "{text}");
    let counts: Vec<usize> = summary.rows.iter().map(|r| r.params).collect();
    assert_eq!(counts, [320, 0, 18_496, 0, 36_928, 0, 36_928, 650]);
    assert_eq!(summary.rows[5].output_shape, [576]);
}

#[test]
fn dense_after_conv_without_flatten_is_a_clear_error() {
    let mut model = Sequential::<f32>::new()
        .add(Conv2D::new(32, (3, 3)))
        .add(Dense::new(128));
    let err = model.build(&[1, 28, 28]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Dense(128) 'dense' expects [batch, features]; got [batch, 32, 26, 26]: add Flatten \
         before it (or Reshape to one feature axis)"
    );
    // Nothing was built: the model still refuses data.
    let x = ArrayD::<f32>::zeros(vec![1, 1, 28, 28]);
    assert!(matches!(
        model.forward(x.view(), Mode::Infer),
        Err(LayerError::NotBuilt { .. })
    ));
}

#[test]
fn other_build_errors() {
    let too_small = Sequential::<f32>::new()
        .add(Conv2D::new(4, (5, 5)))
        .build(&[1, 3, 3]);
    assert!(
        matches!(too_small, Err(LayerError::Shape { .. })),
        "{too_small:?}"
    );
    let bad_rate = Sequential::<f32>::new().add(Dropout::new(1.0)).build(&[4]);
    assert!(matches!(
        bad_rate,
        Err(LayerError::Config { name: "rate", .. })
    ));
    let zero_units = Sequential::<f32>::new().add(Dense::new(0)).build(&[4]);
    assert!(matches!(
        zero_units,
        Err(LayerError::Config { name: "units", .. })
    ));
    let dup = Sequential::<f32>::new()
        .add(Dense::new(2).named("a"))
        .add(Dense::new(2).named("a"))
        .build(&[4]);
    assert!(matches!(dup, Err(LayerError::DuplicateName { .. })));
    assert!(Sequential::<f32>::new().build(&[4]).is_err());
    // A batch of the wrong shape is an error, not a panic.
    let mut model = models::mlp::<f32>(0);
    let x = ArrayD::<f32>::zeros(vec![2, 1, 28, 27]);
    let err = model.forward(x.view(), Mode::Train).unwrap_err();
    assert!(err.to_string().contains("[batch, 1, 28, 28]"), "{err}");
    // Backward before a training forward.
    let mut model = models::mlp::<f32>(0);
    let g = ArrayD::<f32>::zeros(vec![2, 10]);
    assert!(model.backward(g.view()).is_err());
}

#[test]
fn names_are_unique_and_keras_like() {
    let model = Sequential::<f32>::new()
        .add(Dense::new(2))
        .add(ActivationLayer::relu())
        .add(Dense::new(2))
        .add(Dense::new(2).named("dense_2"))
        .add(Dense::new(2));
    let names: Vec<&str> = model.layers().iter().map(|l| l.name()).collect();
    assert_eq!(names, ["dense", "relu", "dense_1", "dense_2", "dense_3"]);
}

#[test]
fn config_round_trip_rebuilds_the_same_model() {
    let mut model = models::cnn::<f64>(3);
    let config = model.config().unwrap();
    let json = serde_json::to_string(&config).unwrap();
    let mut rebuilt =
        Sequential::<f64>::from_config(&serde_json::from_str(&json).unwrap()).unwrap();
    for (name, p) in model.params() {
        rebuilt.set_param(&name, p.value().clone()).unwrap();
    }
    let x = random(&[2, 1, 28, 28], 1);
    let a = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
    let b = rebuilt.forward(x.view(), Mode::Infer).unwrap().to_owned();
    assert_eq!(a, b);
    // Same seed -> same initial weights, without copying anything.
    let fresh = Sequential::<f64>::from_config(&config).unwrap();
    assert_eq!(
        fresh.param("dense.weight").unwrap(),
        models::cnn::<f64>(3).param("dense.weight").unwrap()
    );
    assert!(matches!(
        rebuilt.set_param("dense.weight", Tensor::zeros(vec![3, 3])),
        Err(LayerError::ParamShape { .. })
    ));
    assert!(matches!(
        rebuilt.set_param("nope.weight", Tensor::zeros(vec![3, 3])),
        Err(LayerError::UnknownParam { .. })
    ));
}

#[test]
fn weight_layouts_match_onnx() {
    let model = models::cnn::<f32>(0);
    assert_eq!(
        model.param("conv2d.weight").unwrap().value().shape(),
        [32, 1, 3, 3]
    );
    assert_eq!(model.param("conv2d.bias").unwrap().value().shape(), [32]);
    assert_eq!(
        model.param("dense.weight").unwrap().value().shape(),
        [64, 576]
    );
}

/// Backward from the logits with (p - y) / N equals backward from the probabilities with the
/// cross-entropy gradient -y / (p N) through the softmax Jacobian.
#[test]
fn fused_softmax_backward_matches_the_jacobian_path() {
    let mut model = models::mlp_layers::<f64>(5);
    model.build(&[1, 6, 6]).unwrap();
    assert_eq!(model.output_activation(), Activation::Softmax);
    let x = random(&[4, 1, 6, 6], 2);
    let n = 4.0;
    let labels = [3usize, 0, 9, 3];
    // Where the dropout stream stands, so that the second forward draws the same mask.
    let streams: Vec<_> = model.layers().iter().map(|l| l.rng_state()).collect();
    let p = model.forward(x.view(), Mode::Train).unwrap().to_owned();
    let mut d_p = Tensor::zeros(p.raw_dim());
    let mut d_z = p.mapv(|v| v / n);
    for (i, &l) in labels.iter().enumerate() {
        d_p[[i, l]] = -1.0 / (p[[i, l]] * n);
        d_z[[i, l]] -= 1.0 / n;
    }
    model.zero_grad();
    model.backward(d_p.view()).unwrap();
    let jacobian: Vec<Tensor<f64>> = model
        .params()
        .iter()
        .map(|(_, p)| p.grad().clone())
        .collect();
    for (layer, words) in model.layers_mut().iter_mut().zip(&streams) {
        if let Some(words) = words {
            assert!(layer.set_rng_state(*words));
        }
    }
    model.forward(x.view(), Mode::Train).unwrap();
    model.zero_grad();
    model.backward_from_logits(d_z.view()).unwrap();
    for ((name, p), want) in model.params().iter().zip(&jacobian) {
        let diff = (p.grad() - want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(diff < 1e-12, "{name}: {diff}");
    }
}

#[test]
fn gradients_accumulate_until_zeroed() {
    let mut model = models::regression::<f64>(1);
    let x = random(&[5, 10], 3);
    let g = random(&[5, 1], 4);
    model.forward(x.view(), Mode::Train).unwrap();
    model.backward(g.view()).unwrap();
    let once = model.param("dense_1.weight").unwrap().grad().clone();
    model.backward(g.view()).unwrap();
    let twice = model.param("dense_1.weight").unwrap().grad().clone();
    assert_eq!(twice, &once * 2.0);
    model.zero_grad();
    assert!(
        model
            .params()
            .iter()
            .all(|(_, p)| p.grad().iter().all(|&v| v == 0.0))
    );
}

#[test]
fn dropout_masks_depend_only_on_the_seed() {
    let run = |threads: usize| {
        neurite_testing::with_threads(threads, || {
            let mut model = models::mlp::<f32>(11);
            let x = ArrayD::<f32>::ones(vec![8, 1, 28, 28]);
            let mut outs = Vec::new();
            for _ in 0..3 {
                outs.push(model.forward(x.view(), Mode::Train).unwrap().to_owned());
            }
            outs
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    // Successive batches draw different masks; inference is deterministic and mask-free.
    assert_ne!(one[0], one[1]);
    let mut model = models::mlp::<f32>(11);
    let x = ArrayD::<f32>::ones(vec![8, 1, 28, 28]);
    let a = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
    assert_eq!(a, model.forward(x.view(), Mode::Infer).unwrap().to_owned());
}

/// In inference, Dropout, Flatten and Reshape hand their input on as a view: the model's output
/// must equal every layer run on its own, for a strided input too, and a model that ends in a
/// reshaping layer still returns that layer's output.
#[test]
fn inference_lends_reshaping_layers_input_on() {
    let stack = |seed| {
        Sequential::<f32>::with_seed(seed)
            .add(Flatten::new())
            .add(Dropout::new(0.5))
            .add(Dense::new(12).activation(Activation::Relu))
            .add(Reshape::new(&[3, 4]))
            .add(Dropout::new(0.2))
            .add(Flatten::new())
            .add(Dense::new(5).activation(Activation::Softmax))
            .add(Reshape::new(&[5, 1]))
    };
    let mut model = stack(3);
    model.build(&[2, 3, 4]).unwrap();
    let mut alone = stack(3);
    alone.build(&[2, 3, 4]).unwrap();
    let mut rng = Rng::new(5);
    let wide = ArrayD::from_shape_simple_fn(IxDyn(&[6, 2, 3, 8]), || rng.normal() as f32);
    // Every other element of the last axis: not standard layout, so it cannot be lent as is.
    let strided = wide.slice(ndarray::s![.., .., .., ..;2]).into_dyn();
    let contiguous = strided.as_standard_layout().into_owned();
    for x in [strided.view(), contiguous.view()] {
        let mut expected = x.to_owned();
        for layer in alone.layers_mut() {
            expected = layer
                .forward(expected.view(), Mode::Infer)
                .unwrap()
                .to_owned();
        }
        let got = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
        assert_eq!(got.shape(), &[6, 5, 1]);
        assert_eq!(got, expected);
        assert_eq!(model.output(), expected.view());
        // Training afterwards still runs every layer (masks drawn, caches filled).
        model.forward(x, Mode::Train).unwrap();
        model.backward(ArrayD::ones(vec![6, 5, 1]).view()).unwrap();
    }
}

/// Dense in f32 inference runs one product with bias and ReLU in its epilogue; training keeps
/// the pre-activation and applies them apart. Both must give the same bits.
#[test]
fn dense_inference_equals_the_training_forward() {
    for activation in [Activation::Relu, Activation::Linear, Activation::Tanh] {
        for use_bias in [true, false] {
            let mut model = Sequential::<f32>::with_seed(9)
                .add(Dense::new(33).activation(activation).use_bias(use_bias))
                .add(Dense::new(7).bias_initializer(neurite_tensor::Initializer::Ones));
            model.build(&[19]).unwrap();
            let mut rng = Rng::new(2);
            let x = ArrayD::from_shape_simple_fn(IxDyn(&[13, 19]), || rng.normal() as f32);
            let infer = model.forward(x.view(), Mode::Infer).unwrap().to_owned();
            let train = model.forward(x.view(), Mode::Train).unwrap().to_owned();
            assert_eq!(infer, train, "{activation:?}, bias {use_bias}");
            assert!(infer.iter().any(|&v| v != 0.0));
        }
    }
}

#[test]
fn dropout_scales_survivors() {
    let mut layer = Dropout::<f64>::new(0.25);
    layer.build(&[10_000], &mut Rng::new(0)).unwrap();
    let x = ArrayD::<f64>::ones(vec![1, 10_000]);
    let y = layer.forward(x.view(), Mode::Train).unwrap();
    let kept = y.iter().filter(|&&v| v != 0.0).count();
    assert!(y.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-12));
    assert!((7_200..7_800).contains(&kept), "{kept}");
}

#[test]
fn batch_norm_uses_batch_statistics_then_running_ones() {
    let mut bn = BatchNormalization::<f64>::new().momentum(0.0);
    bn.build(&[2], &mut Rng::new(0)).unwrap();
    let x = ndarray::arr2(&[[1.0, 10.0], [3.0, 10.0]]).into_dyn();
    let y = bn.forward(x.view(), Mode::Train).unwrap().to_owned();
    // Column 0: mean 2, var 1 -> +-1/sqrt(1 + 1e-3). Column 1: constant -> 0.
    let s = 1.0 / (1.0f64 + 1e-3).sqrt();
    assert!((y[[0, 0]] + s).abs() < 1e-12 && (y[[1, 0]] - s).abs() < 1e-12);
    assert_eq!(y[[0, 1]], 0.0);
    // momentum 0: the running statistics are the last batch's.
    let infer = bn.forward(x.view(), Mode::Infer).unwrap().to_owned();
    assert!((infer[[0, 0]] - y[[0, 0]]).abs() < 1e-12);
    let names: Vec<&str> = bn.params().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["gamma", "beta", "moving_mean", "moving_variance"]);
    assert!(!bn.params()[2].is_trainable());
}

/// Both convolution strategies (wide for small planes, per sample from 64 output positions)
/// against a plain loop.
#[test]
fn conv2d_matches_a_plain_loop() {
    use neurite_tensor::Padding;
    for (input, kernel, strides, padding, batch) in [
        ((5, 4), (2, 3), (2, 1), Padding::Same, 2),
        ((10, 9), (3, 2), (1, 1), Padding::Same, 11),
        ((12, 12), (3, 3), (1, 2), Padding::Valid, 3),
    ] {
        let mut conv = Conv2D::<f64>::new(3, kernel)
            .strides(strides)
            .padding(padding);
        conv.build(&[2, input.0, input.1], &mut Rng::new(9))
            .unwrap();
        conv.params_mut()[1].value_mut().assign(&random(&[3], 8));
        let x = random(&[batch, 2, input.0, input.1], 7);
        let y = conv.forward(x.view(), Mode::Train).unwrap().to_owned();
        let w = conv.params()[0].value().clone();
        let b = conv.params()[1].value().clone();
        let win = neurite_tensor::Window2d::new(input, kernel, strides, padding).unwrap();
        assert_eq!(y.shape(), [batch, 3, win.out_h, win.out_w]);
        let mut d_w = Tensor::zeros(w.raw_dim());
        let mut d_x = Tensor::zeros(x.raw_dim());
        let d_y = random(y.shape(), 6);
        for n in 0..batch {
            for f in 0..3 {
                for oy in 0..win.out_h {
                    for ox in 0..win.out_w {
                        let mut s = b[f];
                        for c in 0..2 {
                            for ky in 0..kernel.0 {
                                for kx in 0..kernel.1 {
                                    if let (Some(iy), Some(ix)) =
                                        (win.input_row(oy, ky), win.input_col(ox, kx))
                                    {
                                        s += w[[f, c, ky, kx]] * x[[n, c, iy, ix]];
                                        d_w[[f, c, ky, kx]] +=
                                            d_y[[n, f, oy, ox]] * x[[n, c, iy, ix]];
                                        d_x[[n, c, iy, ix]] +=
                                            d_y[[n, f, oy, ox]] * w[[f, c, ky, kx]];
                                    }
                                }
                            }
                        }
                        assert!((y[[n, f, oy, ox]] - s).abs() < 1e-12);
                    }
                }
            }
        }
        conv.backward(d_y.view(), neurite_layers::Backward::FULL)
            .unwrap();
        let close = |a: &Tensor<f64>, b: ndarray::ArrayViewD<'_, f64>| {
            a.iter().zip(b.iter()).all(|(a, b)| (a - b).abs() < 1e-10)
        };
        assert!(close(&d_w, conv.params()[0].grad().view()), "{input:?}");
        assert!(close(&d_x, conv.input_grad()), "{input:?}");
    }
}

/// A cnn training step gives bit-identical gradients with 1 and 2 threads.
#[test]
fn cnn_gradients_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        neurite_testing::with_threads(threads, || {
            let mut model = models::cnn::<f32>(4);
            let mut rng = Rng::new(3);
            let x = ArrayD::from_shape_simple_fn(IxDyn(&[20, 1, 28, 28]), || rng.next_f32());
            let p = model.forward(x.view(), Mode::Train).unwrap().to_owned();
            model.backward_from_logits(p.view()).unwrap();
            model
                .params()
                .iter()
                .map(|(_, p)| p.grad().clone())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn flatten_and_layers_are_usable_alone_in_f32() {
    let mut model = Sequential::<f32>::with_seed(1)
        .add(Flatten::new())
        .add(Dense::new(3).activation(Activation::Tanh));
    model.build(&[2, 2]).unwrap();
    let x = ArrayD::<f32>::ones(vec![4, 2, 2]);
    let y = model.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(y.shape(), [4, 3]);
    model
        .backward(ArrayD::<f32>::ones(vec![4, 3]).view())
        .unwrap();
    // No input gradient below the first trainable layer: not for the Dense (nothing below it
    // learns), and the Flatten is not visited.
    assert_eq!(model.layers()[1].input_grad().len(), 0);
    assert_eq!(model.layers()[0].input_grad().len(), 0);
}

/// Shapes whose element count overflows are errors, not panics (a crafted model file or a
/// careless build call must never crash the process).
#[test]
fn overflowing_shapes_are_errors() {
    use neurite_layers::{Flatten, Layer, Reshape};
    let huge = [usize::MAX / 2, 3, 1];
    assert!(Flatten::<f32>::new().output_shape(&huge).is_err());
    assert!(Reshape::<f32>::new(&[-1]).output_shape(&huge).is_err());
    let mut model = neurite_layers::Sequential::<f32>::new().add(Flatten::new());
    assert!(model.build(&huge).is_err());
}
