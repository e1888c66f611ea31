//! The Keras-style surface: the compile builder, views and integer labels, `predict(&self)`,
//! and the callbacks that write files (ModelCheckpoint templates, CSVLogger).

use ndarray::{Array1, Array2, Axis, s};
use neurite_layers::{Activation, Dense, Flatten, Sequential};
use neurite_losses::{MeanSquaredError, SparseCategoricalCrossentropy};
use neurite_metrics::streaming::Accuracy;
use neurite_optim::{Adam, Optimizer, Sgd};
use neurite_tensor::Tensor;
use neurite_train::{
    CSVLogger, Callback, Context, EpochLogs, FitConfig, Model, ModelCheckpoint, MonitorMode,
    ReduceLROnPlateau, Result, TrainError, predict,
};

use crate::common;

fn blobs(n: usize, seed: u64) -> (Tensor<f64>, Tensor<f64>) {
    common::blobs(n, seed, 0.5)
}

fn network() -> Sequential<f64> {
    Sequential::with_seed(2)
        .with_input_shape([2])
        .add(Dense::new(8).activation(Activation::Tanh))
        .add(Dense::new(3).activation(Activation::Softmax))
}

fn model() -> Model<f64> {
    Model::new(network())
        .loss(SparseCategoricalCrossentropy::default())
        .optimizer(Adam::default().learning_rate(0.01))
        .metric(Accuracy::new())
        .compile()
        .unwrap()
}

fn bits(a: impl IntoIterator<Item = f64>) -> Vec<u64> {
    a.into_iter().map(f64::to_bits).collect()
}

#[test]
fn compile_lists_every_problem_at_once() {
    let unbuilt = Sequential::<f64>::new().add(Dense::new(2));
    let err = Model::new(unbuilt)
        .optimizer(Sgd::default().momentum(1.5).learning_rate(-0.1))
        .metric(Accuracy::new())
        .metric(Accuracy::new())
        .compile()
        .unwrap_err();
    let TrainError::Invalid { op, detail } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*op, "Model::compile");
    for part in [
        "no loss",
        "momentum",
        "two metrics are named `accuracy`",
        "input shape",
    ] {
        assert!(detail.contains(part), "`{part}` missing from: {detail}");
    }
    let err = Model::new(network())
        .loss(MeanSquaredError)
        .compile()
        .unwrap_err();
    assert!(err.to_string().contains("no optimizer"), "{err}");
    // A declared shape the layers cannot take is the layer's error, naming it.
    let bad = Sequential::<f64>::new()
        .with_input_shape([1, 4, 4])
        .add(Dense::new(2));
    let err = Model::new(bad)
        .loss(MeanSquaredError)
        .optimizer(Sgd::default())
        .compile()
        .unwrap_err();
    assert!(matches!(err, TrainError::Layer(_)), "{err:?}");
    // An explicitly built network needs no declared shape.
    let mut built = Sequential::<f64>::new().add(Dense::new(1));
    built.build(&[3]).unwrap();
    let model = Model::new(built)
        .loss(MeanSquaredError)
        .optimizer(Sgd::default())
        .compile()
        .unwrap();
    assert_eq!(model.network().input_shape(), Some(&[3][..]));
}

#[test]
fn integer_labels_and_views_train_exactly_as_float_labels_and_copies() {
    let (x, y) = blobs(120, 1);
    let config = || FitConfig::default().epochs(3).batch_size(16).silent();
    // Reference: float labels, owned arrays holding exactly the first 90 samples.
    let x90 = x.slice_axis(Axis(0), ndarray::Slice::from(..90)).to_owned();
    let y90 = y.slice_axis(Axis(0), ndarray::Slice::from(..90)).to_owned();
    let mut reference = model();
    let h_ref = reference.fit(&x90, &y90, config()).unwrap();
    // The same samples as a view of the larger array, with u8 labels in a Vec.
    let x2 = x.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
    let labels: Vec<u8> = y.iter().map(|&v| v as u8).collect();
    let mut viewed = model();
    let h_view = viewed
        .fit(&x2.slice(s![..90, ..]), &labels[..90], config())
        .unwrap();
    assert_eq!(bits(h_ref.series("loss")), bits(h_view.series("loss")));
    for ((name, a), (_, b)) in reference
        .network()
        .params()
        .iter()
        .zip(viewed.network().params())
    {
        assert_eq!(
            bits(a.value().iter().copied()),
            bits(b.value().iter().copied()),
            "{name}"
        );
    }
    // usize labels in an ndarray, and evaluate's default batch size of 32.
    let usize_labels: Array1<usize> = labels.iter().map(|&l| usize::from(l)).collect();
    let by_usize = viewed.evaluate(&x2, &usize_labels, None).unwrap();
    let by_float = viewed.evaluate(&x, &y, 32).unwrap();
    assert_eq!(by_usize, by_float);
    // Validation data borrowed as integer labels gives the figures evaluate gives.
    let mut validated = model();
    let config = config().validation_data(&x2, &usize_labels);
    let history = validated.fit(&x90, &y90, config).unwrap();
    let evaluation = validated.evaluate(&x, &y, 16).unwrap(); // fit validates in its batches
    assert_eq!(history.last().unwrap().val_loss, Some(evaluation.loss));
}

#[test]
fn predict_takes_self_and_tracks_the_weights() {
    let (x, y) = blobs(300, 3);
    let mut model = model();
    model
        .fit(&x, &y, FitConfig::default().epochs(2).silent())
        .unwrap();
    let first: Array2<f64> = model.predict(&x, None).unwrap();
    assert_eq!(first.dim(), (300, 3));
    // The copy predict runs gives the network's own outputs, bit for bit, whatever the batch.
    let direct = predict(model.network_mut(), &x, 7).unwrap();
    assert_eq!(bits(first.iter().copied()), bits(direct.iter().copied()));
    assert_eq!(
        bits(model.predict(&x, 5).unwrap().iter().copied()),
        bits(first.iter().copied())
    );
    // Training again changes the weights; predict follows.
    model
        .fit(&x, &y, FitConfig::default().epochs(1).silent())
        .unwrap();
    let second = model.predict(&x, None).unwrap();
    assert_ne!(bits(first.iter().copied()), bits(second.iter().copied()));
    let direct = predict(model.network_mut(), &x, 300).unwrap();
    assert_eq!(bits(second.iter().copied()), bits(direct.iter().copied()));
    // Bad input is an error, not a panic.
    assert!(model.predict(&x, 0).is_err());
    assert!(model.predict(&Array2::<f64>::zeros((4, 5)), None).is_err());
}

#[test]
fn predict_refuses_outputs_that_are_not_rows() {
    let net = Sequential::<f64>::new()
        .with_input_shape([1, 2, 2])
        .add(Flatten::new());
    let model = Model::new(net)
        .loss(MeanSquaredError)
        .optimizer(Sgd::default())
        .compile()
        .unwrap();
    let x = ndarray::Array4::<f64>::zeros((3, 1, 2, 2));
    assert_eq!(model.predict_tensor(&x, None).unwrap().shape(), &[3, 4]);
    let net = Sequential::<f64>::new()
        .with_input_shape([1, 2, 2])
        .add(neurite_layers::ActivationLayer::new(Activation::Relu));
    let model = Model::new(net)
        .loss(MeanSquaredError)
        .optimizer(Sgd::default())
        .compile()
        .unwrap();
    let err = model.predict(&x, None).unwrap_err();
    assert!(err.to_string().contains("predict_tensor"), "{err}");
    assert_eq!(
        model.predict_tensor(&x, None).unwrap().shape(),
        &[3, 1, 2, 2]
    );
}

#[test]
fn checkpoint_templates_name_files_by_epoch_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = blobs(90, 4);
    let template = dir.path().join("m.{epoch:02d}-{loss:.3f}.safetensors");
    let mut model = model();
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .epochs(2)
                .callback(ModelCheckpoint::new(&template))
                .silent(),
        )
        .unwrap();
    for logs in &history.epochs {
        let name = format!("m.{:02}-{:.3}.safetensors", logs.epoch, logs.loss);
        assert!(dir.path().join(&name).is_file(), "{name} missing");
    }
    let bad = dir.path().join("m.{epoch:x}.safetensors");
    let err = model
        .fit(
            &x,
            &y,
            FitConfig::default()
                .callback(ModelCheckpoint::new(&bad))
                .silent(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Callback {
                callback: "ModelCheckpoint",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Counts the lines of a file at the end of every epoch.
struct LinesAtEpochEnd(
    std::path::PathBuf,
    std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
);
impl Callback<f64> for LinesAtEpochEnd {
    fn name(&self) -> &'static str {
        "LinesAtEpochEnd"
    }
    fn on_epoch_end(&mut self, _logs: &EpochLogs, _ctx: &mut Context<'_, f64>) -> Result<()> {
        let lines = std::fs::read_to_string(&self.0).unwrap().lines().count();
        self.1.lock().unwrap().push(lines);
        Ok(())
    }
}

#[test]
fn csv_logger_writes_each_row_as_its_epoch_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    let (x, y) = blobs(60, 5);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut model = model();
    let config = FitConfig::default()
        .epochs(3)
        .validation_split(0.25)
        .callback(CSVLogger::new(&path))
        .callback(LinesAtEpochEnd(path.clone(), seen.clone()))
        .silent();
    let history = model.fit(&x, &y, config).unwrap();
    // On disk before the next epoch starts: a crash keeps every finished epoch.
    assert_eq!(*seen.lock().unwrap(), vec![2, 3, 4]);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"
    );
    let last = history.last().unwrap();
    let expected = format!(
        "3,{},{},{},{},{}",
        last.metrics["accuracy"],
        last.learning_rate,
        last.loss,
        last.val_metrics["accuracy"],
        last.val_loss.unwrap()
    );
    assert_eq!(lines[3], expected);
    // Appending adds rows under the same header, in its columns (no validation this time).
    let config = FitConfig::default()
        .epochs(1)
        .callback(CSVLogger::new(&path).append(true))
        .silent();
    model.fit(&x, &y, config).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert_eq!(text.matches("epoch,").count(), 1);
    let row: Vec<&str> = text.lines().last().unwrap().split(',').collect();
    assert_eq!((row.len(), row[0], row[4], row[5]), (6, "1", "NA", "NA"));
}

#[test]
fn reduce_lr_on_plateau_infers_the_direction_and_checks_its_settings() {
    let (x, y) = blobs(90, 6);
    // Accuracy rises on these blobs: inferred as Max, it never counts as a plateau with
    // patience 1 while it improves, where Min mode would lower the rate after epoch 2.
    let mut inferred = Model::new(network())
        .loss(SparseCategoricalCrossentropy::default())
        .optimizer(Sgd::default().learning_rate(0.5))
        .metric(Accuracy::new())
        .compile()
        .unwrap();
    let config = |reduce: ReduceLROnPlateau| {
        FitConfig::default()
            .epochs(2)
            .batch_size(90)
            .callback(reduce)
            .silent()
    };
    let history = inferred
        .fit(
            &x,
            &y,
            config(ReduceLROnPlateau::new("accuracy").patience(1).factor(0.5)),
        )
        .unwrap();
    let accuracy = history.series("accuracy");
    assert!(accuracy[1] > accuracy[0], "{accuracy:?}");
    assert_eq!(Optimizer::learning_rate(inferred.optimizer()), 0.5);
    let mut forced = Model::new(network())
        .loss(SparseCategoricalCrossentropy::default())
        .optimizer(Sgd::default().learning_rate(0.5))
        .metric(Accuracy::new())
        .compile()
        .unwrap();
    let reduce = ReduceLROnPlateau::new("accuracy")
        .patience(1)
        .factor(0.5)
        .mode(MonitorMode::Min);
    forced.fit(&x, &y, config(reduce)).unwrap();
    assert_eq!(Optimizer::learning_rate(forced.optimizer()), 0.25);
    // A factor of 1 would never lower anything: refused when training begins.
    let err = forced
        .fit(&x, &y, config(ReduceLROnPlateau::new("loss").factor(1.0)))
        .unwrap_err();
    assert!(err.to_string().contains("factor"), "{err}");
}

#[test]
fn debug_shows_the_model() {
    let text = format!("{:?}", model());
    for part in [
        "Model",
        "Sequential",
        "Dense",
        "sparse_categorical_crossentropy",
        "Adam",
        "accuracy",
    ] {
        assert!(text.contains(part), "`{part}` missing from {text}");
    }
    let summary = model().summary();
    assert!(summary.contains("Total params: 51"), "{summary}");
}
