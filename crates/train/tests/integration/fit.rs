//! `Model::fit`, `evaluate`, `predict` and the callbacks, on small problems with known answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{ArrayD, Axis};
use neurite_layers::{Activation, Dense, Sequential, models};
use neurite_losses::{MeanSquaredError, SparseCategoricalCrossentropy};
use neurite_metrics::streaming::Accuracy;
use neurite_optim::{Adam, MonitorMode, Sgd};
use neurite_tensor::{Rng, Tensor};
use neurite_train::{
    Callback, Context, EarlyStopping, EpochLogs, FitConfig, LearningRateScheduler, Model,
    ReduceLROnPlateau, Result, TrainError,
};

use crate::common;

/// Three well-separated blobs, labels 0..3 as floats.
fn blobs(n: usize, seed: u64) -> (Tensor<f64>, Tensor<f64>) {
    common::blobs(n, seed, 0.5)
}

fn classifier(seed: u64) -> Sequential<f64> {
    let mut net = Sequential::with_seed(seed)
        .add(Dense::new(16).activation(Activation::Tanh))
        .add(Dense::new(3).activation(Activation::Softmax));
    net.build(&[2]).unwrap();
    net
}

fn compiled(seed: u64) -> Model<f64> {
    Model::new(classifier(seed))
        .loss(SparseCategoricalCrossentropy::default())
        .optimizer(Adam::default().learning_rate(0.01))
        .metric(Accuracy::new())
        .compile()
        .unwrap()
}

#[test]
fn learns_blobs_and_reports_history() {
    let (x, y) = blobs(300, 1);
    let mut model = compiled(0);
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(20)
                .batch_size(16)
                .validation_split(0.2)
                .silent(),
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 20);
    let first = &history.epochs[0];
    let last = history.last().unwrap();
    assert!(
        last.loss < first.loss / 3.0,
        "loss {} -> {}",
        first.loss,
        last.loss
    );
    assert!(last.metrics["accuracy"] > 0.97, "{:?}", last.metrics);
    assert!(
        last.val_metrics["accuracy"] > 0.95,
        "{:?}",
        last.val_metrics
    );
    assert!(last.val_loss.is_some() && last.seconds > 0.0);
    assert_eq!(last.learning_rate, 0.01);
    // evaluate on the validation part gives the same figures the history recorded.
    let val_x = x
        .slice_axis(Axis(0), ndarray::Slice::from(240..))
        .to_owned();
    let val_y = y
        .slice_axis(Axis(0), ndarray::Slice::from(240..))
        .to_owned();
    let eval = model.evaluate(&val_x, &val_y, 7).unwrap();
    assert!((eval.loss - last.val_loss.unwrap()).abs() < 1e-12);
    assert_eq!(eval.metrics["accuracy"], last.val_metrics["accuracy"]);
    // predict returns probabilities, one row per sample, in order.
    let p = model.predict(&val_x, 11).unwrap();
    assert_eq!(p.shape(), &[60, 3]);
    for row in p.outer_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    let json = history.to_json();
    assert!(json.contains("\"val_loss\""));
}

#[test]
fn same_seed_same_weights_with_one_and_two_threads() {
    let (x, y) = blobs(200, 2);
    let run = |threads: usize| {
        neurite_testing::with_threads(threads, || {
            let mut model = compiled(5);
            model
                .fit(
                    &x,
                    &y,
                    FitConfig::default()
                        .epochs(3)
                        .batch_size(8)
                        .seed(9)
                        .silent(),
                )
                .unwrap();
            model
                .network()
                .params()
                .into_iter()
                .map(|(n, p)| (n, p.value().clone()))
                .collect::<Vec<_>>()
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.len(), two.len());
    for ((name, a), (_, b)) in one.iter().zip(&two) {
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs"
        );
    }
}

#[test]
fn nan_loss_stops_with_epoch_and_step_and_keeps_weights() {
    let (mut x, y) = blobs(64, 3);
    x[[40, 1]] = f64::NAN; // sample 40 is in batch 3 when not shuffled (batches of 16)
    let mut model = compiled(0);
    let before: Vec<_> = model
        .network()
        .params()
        .into_iter()
        .map(|(_, p)| p.value().clone())
        .collect();
    let err = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap_err();
    match err {
        TrainError::NonFiniteLoss { epoch, step, loss } => {
            assert_eq!((epoch, step), (1, 3));
            assert!(loss.is_nan());
        }
        other => panic!("expected NonFiniteLoss, got {other}"),
    }
    // Two good steps happened, then the failing one changed nothing.
    let after: Vec<_> = model
        .network()
        .params()
        .into_iter()
        .map(|(_, p)| p.value().clone())
        .collect();
    assert!(after.iter().all(|t| t.iter().all(|v| v.is_finite())));
    assert_ne!(before, after);
}

#[test]
fn early_stopping_stops_and_restores_best_weights() {
    let (x, y) = blobs(150, 4);
    // Validation labels that are systematically wrong: the better the model fits, the worse the
    // validation loss, so the best epoch is the first and training stops `patience` epochs
    // later (Keras counts `wait >= patience`).
    let (vx, vy) = blobs(60, 5);
    let vy = vy.mapv(|c| (c + 1.0) % 3.0);
    let mut model = compiled(1);
    let stop = EarlyStopping::new("val_loss")
        .patience(1)
        .restore_best_weights(true);
    let config = FitConfig::default()
        .epochs(50)
        .batch_size(10)
        .validation_data(&vx, &vy)
        .callback(stop)
        .silent();
    let history = model.fit(&x, &y, config).unwrap();
    assert_eq!(history.epochs.len(), 2, "{:?}", history.series("val_loss"));
    assert!(
        history
            .stopped_early
            .as_deref()
            .unwrap()
            .contains("EarlyStopping")
    );
    let best = history.epochs[0].val_loss.unwrap();
    assert!(history.epochs[1].val_loss.unwrap() > best);
    let restored = model.evaluate(&vx, &vy, 64).unwrap().loss;
    assert!(
        (restored - best).abs() < 1e-12,
        "restored {restored}, best {best}"
    );
}

#[test]
fn monitoring_an_absent_quantity_names_what_exists() {
    let (x, y) = blobs(30, 6);
    let mut model = compiled(0);
    let err = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .batch_size(10)
                .callback(EarlyStopping::new("val_accuracy"))
                .silent(),
        )
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("val_accuracy") && message.contains("available: loss, accuracy"),
        "{message}"
    );
}

#[test]
fn schedulers_change_the_rate() {
    let (x, y) = blobs(30, 7);
    let mut model = compiled(0);
    let halve = LearningRateScheduler::new(|epoch, lr| if epoch == 0 { 0.04 } else { lr / 2.0 });
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(3)
                .batch_size(10)
                .callback(halve)
                .silent(),
        )
        .unwrap();
    assert_eq!(history.series("learning_rate"), vec![0.04, 0.02, 0.01]);

    // ReduceLROnPlateau watching the training loss in Max mode: a falling loss never
    // "improves", so with patience 0 the rate halves after every epoch but the first.
    let mut model = compiled(0);
    let reduce = ReduceLROnPlateau::new("loss")
        .mode(MonitorMode::Max)
        .factor(0.5)
        .patience(0);
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(3)
                .batch_size(10)
                .callback(reduce)
                .silent(),
        )
        .unwrap();
    assert_eq!(history.series("learning_rate"), vec![0.01, 0.01, 0.005]);
}

/// A callback that stops after two epochs.
struct StopAfterTwo;
impl Callback<f64> for StopAfterTwo {
    fn name(&self) -> &'static str {
        "StopAfterTwo"
    }
    fn on_epoch_end(&mut self, logs: &EpochLogs, ctx: &mut Context<'_, f64>) -> Result<()> {
        if logs.epoch == 2 {
            ctx.stop_training("two is enough");
        }
        Ok(())
    }
}

#[test]
fn user_callbacks_and_interrupts_stop_training() {
    let (x, y) = blobs(30, 8);
    let mut model = compiled(0);
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(10)
                .batch_size(10)
                .callback(StopAfterTwo)
                .silent(),
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert_eq!(history.stopped_early.as_deref(), Some("two is enough"));

    let flag = Arc::new(AtomicBool::new(true));
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(10)
                .batch_size(10)
                .interrupt(Arc::clone(&flag))
                .silent(),
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 1);
    assert!(history.stopped_early.unwrap().contains("interrupted"));
    flag.store(false, Ordering::Relaxed);
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let (x, y) = blobs(30, 9);
    let mut model = compiled(0);
    let short_y = y.slice_axis(Axis(0), ndarray::Slice::from(..10)).to_owned();
    assert!(matches!(
        model.fit(
            &x,
            &short_y,
            FitConfig::default().epochs(1).batch_size(10).silent()
        ),
        Err(TrainError::Invalid { .. })
    ));
    assert!(matches!(
        model.fit(
            &x,
            &y,
            FitConfig::default().epochs(1).batch_size(0).silent()
        ),
        Err(TrainError::Invalid { .. })
    ));
    assert!(
        model
            .fit(
                &x,
                &y,
                FitConfig::default()
                    .epochs(1)
                    .batch_size(10)
                    .validation_split(1.5)
                    .silent()
            )
            .is_err()
    );
    let wide = ArrayD::<f64>::zeros(vec![30, 5]);
    assert!(matches!(
        model.fit(
            &wide,
            &y,
            FitConfig::default().epochs(1).batch_size(10).silent()
        ),
        Err(TrainError::Layer(_))
    ));
    let bad_labels = y.mapv(|v| v + 3.0);
    assert!(matches!(
        model.fit(
            &x,
            &bad_labels,
            FitConfig::default().epochs(1).batch_size(10).silent()
        ),
        Err(TrainError::Loss(_))
    ));
    assert!(model.predict(&x, 0).is_err());
    let unbuilt = Sequential::<f64>::new().add(Dense::new(2));
    let err = Model::new(unbuilt)
        .loss(MeanSquaredError)
        .optimizer(Sgd::default())
        .compile()
        .unwrap_err();
    assert!(err.to_string().contains("with_input_shape"), "{err}");
}

#[test]
fn reference_models_compile_and_step() {
    // One step of the reference cnn on two random images, through the fused softmax path.
    let mut rng = Rng::new(0);
    let x = ArrayD::from_shape_simple_fn(vec![2, 1, 28, 28], || rng.next_f32());
    let y = ndarray::arr2(&[
        [0f32, 1., 0., 0., 0., 0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0., 0., 0., 0., 0., 1.],
    ])
    .into_dyn();
    let mut model = Model::new(models::cnn::<f32>(0))
        .loss(neurite_losses::CategoricalCrossentropy::default())
        .optimizer(Adam::default())
        .metric(Accuracy::new())
        .compile()
        .unwrap();
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default().epochs(3).batch_size(2).silent(),
        )
        .unwrap();
    assert!(history.epochs[2].loss < history.epochs[0].loss);
}

#[test]
fn save_and_load_resume_exactly_and_checkpoints_keep_the_best() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = blobs(96, 10);
    // Uninterrupted: 4 epochs. Interrupted: 2 epochs, save, load, 2 more (shuffling off so
    // both see the same batches; the seed fixes everything else).
    let mut straight = compiled(3);
    straight
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(4)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap();
    let mut first = compiled(3);
    first
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap();
    let path = dir.path().join("model.safetensors");
    first.save(&path).unwrap();
    // The file holds the loss, the optimizer and the metrics: nothing to pass again.
    let mut resumed = Model::load(&path).unwrap();
    assert_eq!(resumed.optimizer().iterations(), 12);
    assert_eq!(resumed.optimizer().name(), "Adam");
    assert_eq!(resumed.loss().name(), "sparse_categorical_crossentropy");
    assert_eq!(resumed.metric_names(), ["accuracy"]);
    resumed
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap();
    for ((name, a), (_, b)) in straight
        .network()
        .params()
        .into_iter()
        .zip(resumed.network().params())
    {
        assert!(
            a.value()
                .iter()
                .zip(b.value().iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs"
        );
    }
    // Loading Adam state into SGD is refused.
    let err = Model::<f64>::load_and_compile(
        &path,
        SparseCategoricalCrossentropy::default(),
        Box::new(Sgd::default()),
        vec![],
    );
    assert!(matches!(err, Err(TrainError::Optim(_))));
    // A truncated file is an error, not a panic.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        Model::<f64>::load(&cut),
        Err(TrainError::ModelFile(_))
    ));

    // ModelCheckpoint with save_best_only keeps the epoch with the lowest validation loss.
    let (vx, vy) = blobs(60, 5);
    let vy = vy.mapv(|c| (c + 1.0) % 3.0); // worse every epoch: the best is epoch 1
    let best = dir.path().join("best.safetensors");
    let mut model = compiled(1);
    let checkpoint = neurite_train::ModelCheckpoint::new(&best)
        .monitor("val_loss")
        .save_best_only(true);
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(3)
                .batch_size(16)
                .validation_data(&vx, &vy)
                .callback(checkpoint)
                .silent(),
        )
        .unwrap();
    // A checkpoint holds no compile record: the loss and optimizer are passed again.
    let mut saved = Model::load_and_compile(
        &best,
        SparseCategoricalCrossentropy::default(),
        Box::new(Adam::with_learning_rate(0.01).unwrap()),
        vec![],
    )
    .unwrap();
    let loss = saved.evaluate(&vx, &vy, 64).unwrap().loss;
    assert!((loss - history.epochs[0].val_loss.unwrap()).abs() < 1e-12);
}

#[test]
fn resume_is_exact_with_dropout_too() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = blobs(96, 11);
    let network = || {
        let mut net = Sequential::<f64>::with_seed(4)
            .add(Dense::new(16).activation(Activation::Relu))
            .add(neurite_layers::Dropout::new(0.3))
            .add(Dense::new(3).activation(Activation::Softmax));
        net.build(&[2]).unwrap();
        net
    };
    let adam = || Box::new(Adam::with_learning_rate(0.01).unwrap());
    let mut straight = Model::new(network())
        .loss(SparseCategoricalCrossentropy::default())
        .boxed_optimizer(adam())
        .compile()
        .unwrap();
    straight
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(4)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap();
    let mut first = Model::new(network())
        .loss(SparseCategoricalCrossentropy::default())
        .boxed_optimizer(adam())
        .compile()
        .unwrap();
    first
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap();
    let path = dir.path().join("dropout.safetensors");
    first.save(&path).unwrap();
    let mut resumed = Model::<f64>::load(&path).unwrap();
    resumed
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .batch_size(16)
                .shuffle(false)
                .silent(),
        )
        .unwrap();
    for ((name, a), (_, b)) in straight
        .network()
        .params()
        .into_iter()
        .zip(resumed.network().params())
    {
        assert!(
            a.value()
                .iter()
                .zip(b.value().iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs"
        );
    }
}
