//! How a step treats its parameter list (names, shapes, layouts, threads) and how state is
//! exported, restored and rejected.

use ndarray::{ArrayD, IxDyn};
use neurite_optim::{
    Adam, AdamConfig, ExponentialDecay, LearningRate, LearningRateSchedule, OptimError, Optimizer,
    OptimizerConfig, PiecewiseConstant, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use neurite_tensor::{Param, Rng};

fn random_param(name: &str, shape: &[usize], rng: &mut Rng) -> Param<f32> {
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    Param::new(name, ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

fn fill_grads(ps: &mut [Param<f32>], rng: &mut Rng) {
    for p in ps {
        p.grad_mut().mapv_inplace(|_| rng.uniform(-1.0, 1.0) as f32);
    }
}

fn model(seed: u64) -> Vec<Param<f32>> {
    let mut rng = Rng::new(seed);
    vec![
        random_param("dense.weight", &[4, 3], &mut rng),
        random_param("dense.bias", &[3], &mut rng),
    ]
}

#[test]
fn saving_and_restoring_state_resumes_bit_for_bit() {
    let config = AdamConfig {
        amsgrad: true,
        ..AdamConfig::adamw()
    };
    let mut grads = Rng::new(7);
    let mut a = model(1);
    let mut opt_a = Adam::<f32>::new(config.clone()).unwrap();
    for _ in 0..5 {
        fill_grads(&mut a, &mut grads);
        opt_a.step_slice(&mut a).unwrap();
    }
    let saved = opt_a.state();
    assert_eq!(saved.optimizer, "AdamW");
    assert_eq!(saved.iterations, 5);
    assert_eq!(saved.tensors.len(), 6);
    assert_eq!(saved.tensors[0].0, "dense.bias/momentum");

    let mut b = a.clone();
    let mut opt_b = Adam::<f32>::new(config).unwrap();
    opt_b.load_state(saved).unwrap();
    let mut grads_b = grads.clone();
    for _ in 0..5 {
        fill_grads(&mut a, &mut grads);
        fill_grads(&mut b, &mut grads_b);
        opt_a.step_slice(&mut a).unwrap();
        opt_b.step_slice(&mut b).unwrap();
    }
    assert_eq!(a, b);
    assert_eq!(opt_a.state(), opt_b.state());
}

#[test]
fn a_lowered_constant_rate_is_part_of_the_state() {
    let mut ps = model(1);
    let mut opt = Sgd::<f32>::default();
    opt.step_slice(&mut ps).unwrap();
    opt.set_learning_rate(0.001).unwrap();
    let state = opt.state();
    assert_eq!(state.learning_rate, 0.001);
    let mut fresh = Sgd::<f32>::default();
    fresh.load_state(state).unwrap();
    assert_eq!(Optimizer::learning_rate(&fresh), 0.001);
    assert_eq!(fresh.iterations(), 1);
    assert_eq!(
        fresh.config().build::<f32>().unwrap().learning_rate(),
        0.001
    );
}

#[test]
fn bad_state_is_rejected_and_changes_nothing() {
    let mut ps = model(1);
    let mut opt = Adam::<f32>::default();
    opt.step_slice(&mut ps).unwrap();
    let good = opt.state();
    let before = opt.state();

    let mut wrong_kind = good.clone();
    wrong_kind.optimizer = "SGD".into();
    assert!(matches!(
        opt.load_state(wrong_kind),
        Err(OptimError::StateKind { .. })
    ));

    let mut unknown = good.clone();
    unknown.tensors[0].0 = "dense.bias/accumulator".into();
    assert!(matches!(
        opt.load_state(unknown),
        Err(OptimError::UnknownStateTensor { .. })
    ));

    let mut missing = good.clone();
    missing.tensors.remove(0);
    assert!(matches!(
        opt.load_state(missing),
        Err(OptimError::InconsistentState { .. })
    ));

    let mut shapes = good.clone();
    shapes.tensors[0].1 = ArrayD::zeros(vec![7]);
    assert!(matches!(
        opt.load_state(shapes),
        Err(OptimError::InconsistentState { .. })
    ));

    let mut rate = good.clone();
    rate.learning_rate = -1.0;
    assert!(opt.load_state(rate).is_err());

    assert_eq!(opt.state(), before);
}

#[test]
fn state_for_another_model_fails_at_the_step_without_touching_values() {
    let mut ps = model(1);
    let mut opt = Adam::<f32>::default();
    opt.step_slice(&mut ps).unwrap();
    let mut state = opt.state();
    for (_, t) in &mut state.tensors {
        if t.shape() == [4, 3] {
            *t = ArrayD::zeros(vec![3, 4]);
        }
    }
    let mut other = Adam::<f32>::default();
    other.load_state(state).unwrap();
    let before = ps.clone();
    let err = other.step_slice(&mut ps).unwrap_err();
    assert!(matches!(err, OptimError::StateShape { .. }), "{err}");
    assert!(err.to_string().contains("dense.weight"), "{err}");
    assert_eq!(ps, before);
    assert_eq!(other.iterations(), 1);
}

#[test]
fn duplicate_names_and_bad_gradients_are_errors_before_any_update() {
    let mut rng = Rng::new(3);
    let mut a = random_param("w", &[2], &mut rng);
    let mut b = random_param("w", &[2], &mut rng);
    let (a0, b0) = (a.clone(), b.clone());
    let mut opt = Sgd::<f32>::default();
    let err = opt.step(&mut [&mut a, &mut b]).unwrap_err();
    assert!(matches!(err, OptimError::DuplicateParam { .. }));
    assert_eq!((a.clone(), b.clone()), (a0, b0));

    let mut c = random_param("c", &[2], &mut rng);
    *c.grad_mut() = ArrayD::zeros(vec![3]);
    let before = a.clone();
    let err = opt.step(&mut [&mut a, &mut c]).unwrap_err();
    assert!(matches!(err, OptimError::GradShape { .. }));
    assert_eq!(a, before);
    assert_eq!(opt.iterations(), 0);
    // After the errors the optimizer still works.
    b.set_name("v");
    opt.step(&mut [&mut a, &mut b]).unwrap();
    assert_eq!(opt.iterations(), 1);
}

#[test]
fn non_standard_layouts_give_the_same_update() {
    let value = ArrayD::from_shape_vec(vec![2, 3], vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let grad = value.mapv(|x| 0.1 * x);
    let mut plain = Param::new("w", value.clone());
    plain.grad_mut().assign(&grad);
    // The same logical values, stored column-major.
    let mut transposed = Param::new(
        "w",
        value.t().as_standard_layout().into_owned().reversed_axes(),
    );
    transposed.grad_mut().assign(&grad);
    assert!(!transposed.value().is_standard_layout());
    let mut o1 = Adam::<f64>::default();
    let mut o2 = Adam::<f64>::default();
    for _ in 0..3 {
        o1.step(&mut [&mut plain]).unwrap();
        o2.step(&mut [&mut transposed]).unwrap();
    }
    assert_eq!(plain.value(), transposed.value());
}

#[test]
fn large_tensors_update_identically_with_one_or_two_threads_and_match_a_scalar_loop() {
    let shape = [300, 1001]; // 300,300 elements: several chunks and a ragged end
    let mut rng = Rng::new(11);
    let start = random_param("big", &shape, &mut rng);
    let grads: Vec<ArrayD<f32>> = (0..3)
        .map(|_| ArrayD::from_shape_fn(IxDyn(&shape), |_| rng.uniform(-1.0, 1.0) as f32))
        .collect();
    let run = |threads: usize| {
        neurite_testing::with_threads(threads, || {
            let mut p = start.clone();
            let mut opt = Adam::<f32>::with_learning_rate(0.01).unwrap();
            for g in &grads {
                p.grad_mut().assign(g);
                opt.step(&mut [&mut p]).unwrap();
            }
            p
        })
    };
    let one = run(1);
    let two = run(2);
    assert!(
        one.value()
            .iter()
            .zip(two.value())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );

    // The Keras rule written as a plain loop, f32 coefficients rounded from f64 as the crate does.
    let mut w: Vec<f32> = start.value().iter().copied().collect();
    let (mut m, mut v) = (vec![0f32; w.len()], vec![0f32; w.len()]);
    for (t, g) in grads.iter().enumerate() {
        let t = t as i32 + 1;
        let alpha = (0.01 * (1.0 - 0.999f64.powi(t)).sqrt() / (1.0 - 0.9f64.powi(t))) as f32;
        for (i, &g) in g.iter().enumerate() {
            m[i] += (g - m[i]) * (1.0 - 0.9f64) as f32;
            v[i] += (g * g - v[i]) * (1.0 - 0.999f64) as f32;
            w[i] -= m[i] * alpha / (v[i].sqrt() + 1e-7f64 as f32);
        }
    }
    assert!(
        one.value()
            .iter()
            .zip(&w)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn schedules_drive_the_rate_and_cannot_be_overridden() {
    // PiecewiseConstant: rate 1.0 for steps 0 and 1 (step <= 1), 0.1 afterwards.
    let schedule = PiecewiseConstant::new(vec![1], vec![1.0, 0.1]);
    let config = SgdConfig {
        learning_rate: schedule.into(),
        ..SgdConfig::default()
    };
    let mut opt = Sgd::<f64>::new(config).unwrap();
    let mut p = Param::new("w", ArrayD::zeros(vec![1]));
    p.grad_mut().fill(1.0);
    let mut rates = Vec::new();
    for _ in 0..3 {
        rates.push(Optimizer::learning_rate(&opt));
        opt.step(&mut [&mut p]).unwrap();
    }
    assert_eq!(rates, [1.0, 1.0, 0.1]);
    assert!((p.value()[[0]] + 2.1).abs() < 1e-15);
    let err = opt.set_learning_rate(0.5).unwrap_err();
    assert!(matches!(err, OptimError::ScheduledLearningRate { .. }));
    assert!(err.to_string().contains("PiecewiseConstant"));
}

#[derive(Debug)]
struct Broken;

impl LearningRateSchedule for Broken {
    fn learning_rate(&self, step: u64) -> f64 {
        if step < 1 { 0.1 } else { f64::NAN }
    }
    fn name(&self) -> String {
        "Broken".into()
    }
}

#[test]
fn a_custom_schedule_returning_nan_is_an_error_naming_the_step() {
    let config = SgdConfig {
        learning_rate: LearningRate::custom(Broken),
        ..SgdConfig::default()
    };
    let mut opt = Sgd::<f64>::new(config).unwrap();
    let mut p = Param::new("w", ArrayD::zeros(vec![1]));
    opt.step(&mut [&mut p]).unwrap();
    let err = opt.step(&mut [&mut p]).unwrap_err();
    assert!(
        matches!(err, OptimError::BadScheduledRate { step: 1, .. }),
        "{err}"
    );
    // A custom schedule cannot be written to a model file.
    assert!(serde_json::to_string(&opt.config()).is_err());
}

#[test]
fn configs_round_trip_through_json() {
    let schedule = ExponentialDecay::new(0.01, 100, 0.5).staircase(true);
    let configs = [
        OptimizerConfig::Adam(AdamConfig {
            learning_rate: schedule.into(),
            ..AdamConfig::adamw()
        }),
        OptimizerConfig::RmsProp(RmsPropConfig {
            centered: true,
            ..RmsPropConfig::default()
        }),
        OptimizerConfig::Sgd(SgdConfig {
            momentum: 0.9,
            nesterov: true,
            ..SgdConfig::default()
        }),
    ];
    for config in configs {
        let json = serde_json::to_string(&config).unwrap();
        let back: OptimizerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        let a = config.build::<f32>().unwrap();
        let b = back.build::<f32>().unwrap();
        assert_eq!((a.name(), a.learning_rate()), (b.name(), b.learning_rate()));
    }
    // A file with an invalid value is rejected when the optimizer is built.
    let bad: OptimizerConfig = serde_json::from_str(
        &serde_json::to_string(&OptimizerConfig::Adam(AdamConfig {
            beta_1: 1.0,
            ..AdamConfig::default()
        }))
        .unwrap(),
    )
    .unwrap();
    assert!(matches!(
        bad.build::<f32>(),
        Err(OptimError::InvalidHyperParameter { .. })
    ));
}

#[test]
fn invalid_hyper_parameters_are_rejected_with_their_name() {
    let err = Adam::<f32>::with_learning_rate(-1.0).unwrap_err();
    assert!(err.to_string().contains("learning_rate"), "{err}");
    let bad_adam = |c: AdamConfig| Adam::<f32>::new(c).is_err();
    assert!(bad_adam(AdamConfig {
        beta_1: 1.0,
        ..Default::default()
    }));
    assert!(bad_adam(AdamConfig {
        beta_2: -0.1,
        ..Default::default()
    }));
    assert!(bad_adam(AdamConfig {
        epsilon: 0.0,
        ..Default::default()
    }));
    assert!(bad_adam(AdamConfig {
        weight_decay: f64::NAN,
        ..Default::default()
    }));
    assert!(bad_adam(AdamConfig {
        l2: -1.0,
        ..Default::default()
    }));
    assert!(bad_adam(AdamConfig {
        clip: neurite_optim::Clip::Norm(0.0),
        ..Default::default()
    }));
    assert!(
        Sgd::<f32>::new(SgdConfig {
            momentum: 1.5,
            ..Default::default()
        })
        .is_err()
    );
    assert!(
        RmsProp::<f32>::new(RmsPropConfig {
            rho: 1.0,
            ..Default::default()
        })
        .is_err()
    );
    let mut opt = Sgd::<f32>::default();
    assert!(opt.set_learning_rate(f64::INFINITY).is_err());
    assert_eq!(Optimizer::learning_rate(&opt), 0.01);
}
