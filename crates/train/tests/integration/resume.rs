//! Resuming with `FitConfig::initial_epoch`: fitting 2 epochs, and fitting 1, saving, loading and
//! fitting epoch 2 with `initial_epoch(1)`, give byte-identical model files and the same history
//! for epoch 2, with shuffling on, validation, a schedule that reads the epoch number, and
//! Dropout in the network.

use neurite_layers::{Activation, Dense, Dropout, Sequential};
use neurite_losses::SparseCategoricalCrossentropy;
use neurite_metrics::streaming::{Accuracy, StreamingMetric, TopKAccuracy};
use neurite_optim::{Adam, AdamConfig, ExponentialDecay};
use neurite_tensor::Tensor;
use neurite_train::model_file::{self, NetworkFile, TrainingState};
use neurite_train::{Callback, Context, EpochLogs, FitConfig, LearningRateScheduler, Model};

use crate::common;

/// Three well-separated blobs, labels 0..3 as floats.
fn blobs(n: usize, seed: u64) -> (Tensor<f32>, Tensor<f32>) {
    common::blobs(n, seed, 0.8)
}

fn network(dropout: bool) -> Sequential<f32> {
    let mut net = Sequential::with_seed(5).add(Dense::new(16).activation(Activation::Relu));
    if dropout {
        net = net.add(Dropout::new(0.3));
    }
    let mut net = net.add(Dense::new(3).activation(Activation::Softmax));
    net.build(&[2]).unwrap();
    net
}

fn adam() -> Box<Adam<f32>> {
    Box::new(Adam::with_learning_rate(0.01).unwrap())
}

fn accuracy() -> Vec<Box<dyn StreamingMetric<f32>>> {
    vec![Box::new(Accuracy::new())]
}

/// The settings of every fit below; `initial_epoch` aside, the same for all.
fn config(epochs: usize, seen: &Recorder) -> FitConfig<'static, f32> {
    FitConfig::new(epochs, 16)
        .seed(9)
        .validation_split(0.2)
        .silent()
        // A rate that depends on the epoch number: resuming with the wrong one changes it.
        .callback(LearningRateScheduler::new(|epoch, _| {
            0.01 / (epoch + 1) as f64
        }))
        .callback(seen.clone())
}

/// Records the epoch numbers callbacks are given.
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<(&'static str, usize)>>>);

impl Callback<f32> for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }
    fn on_epoch_begin(
        &mut self,
        epoch: usize,
        _: &mut Context<'_, f32>,
    ) -> neurite_train::Result<()> {
        self.0.lock().unwrap().push(("begin", epoch));
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        logs: &EpochLogs,
        _: &mut Context<'_, f32>,
    ) -> neurite_train::Result<()> {
        self.0.lock().unwrap().push(("end", logs.epoch));
        Ok(())
    }
}

/// Wall-clock time is the one figure two runs cannot share.
fn timeless(mut logs: EpochLogs) -> EpochLogs {
    logs.seconds = 0.0;
    logs
}

fn resume_matches_uninterrupted(dropout: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = blobs(150, 3);
    let compile = || {
        Model::compile(
            network(dropout),
            SparseCategoricalCrossentropy::default(),
            adam(),
            accuracy(),
        )
        .unwrap()
    };

    let mut straight = compile();
    let seen = Recorder::default();
    let full = straight.fit(&x, &y, config(2, &seen)).unwrap();
    assert_eq!(straight.epochs_completed(), 2);
    let straight_path = dir.path().join("straight.safetensors");
    straight.save(&straight_path).unwrap();

    let mut first = compile();
    first.fit(&x, &y, config(1, &Recorder::default())).unwrap();
    assert_eq!(first.epochs_completed(), 1);
    let first_path = dir.path().join("first.safetensors");
    first.save(&first_path).unwrap();
    // `load` alone: the file holds the loss, the optimizer with its state and the metrics.
    let mut resumed = Model::load(&first_path).unwrap();
    assert_eq!(
        resumed.epochs_completed(),
        1,
        "the file records the epochs done"
    );
    let seen_resumed = Recorder::default();
    let rest = resumed
        .fit(
            &x,
            &y,
            config(2, &seen_resumed).initial_epoch(resumed.epochs_completed()),
        )
        .unwrap();
    assert_eq!(resumed.epochs_completed(), 2);
    let resumed_path = dir.path().join("resumed.safetensors");
    resumed.save(&resumed_path).unwrap();

    assert!(
        std::fs::read(&straight_path).unwrap() == std::fs::read(&resumed_path).unwrap(),
        "the resumed model file differs from the uninterrupted one (dropout: {dropout})"
    );
    assert_eq!(rest.epochs.len(), 1);
    assert_eq!(
        rest.epochs[0].epoch, 2,
        "the history carries the true epoch number"
    );
    assert_eq!(
        timeless(rest.epochs[0].clone()),
        timeless(full.epochs[1].clone())
    );
    assert_eq!(
        *seen_resumed.0.lock().unwrap(),
        [("begin", 2), ("end", 2)],
        "callbacks see the true epoch numbers"
    );
    assert_eq!(seen.0.lock().unwrap().len(), 4);
}

#[test]
fn fit_from_initial_epoch_gives_the_same_file_as_an_uninterrupted_fit() {
    resume_matches_uninterrupted(false);
}

#[test]
fn fit_from_initial_epoch_gives_the_same_file_with_dropout_too() {
    resume_matches_uninterrupted(true);
}

#[test]
fn an_epoch_cut_short_does_not_count_as_completed() {
    /// Asks to stop after the 3rd batch of epoch 2.
    struct StopInEpochTwo(usize);
    impl Callback<f32> for StopInEpochTwo {
        fn name(&self) -> &'static str {
            "StopInEpochTwo"
        }
        fn on_batch_end(
            &mut self,
            _: usize,
            _: f64,
            ctx: &mut Context<'_, f32>,
        ) -> neurite_train::Result<()> {
            self.0 += 1;
            if self.0 == 8 + 3 {
                ctx.stop_training("test");
            }
            Ok(())
        }
    }
    let (x, y) = blobs(128, 4); // 8 batches of 16 per epoch
    let mut model = Model::compile(
        network(false),
        SparseCategoricalCrossentropy::default(),
        adam(),
        vec![],
    )
    .unwrap();
    let history = model
        .fit(
            &x,
            &y,
            FitConfig::new(3, 16).silent().callback(StopInEpochTwo(0)),
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert_eq!(model.epochs_completed(), 1);
    // Nothing to do when the run is already at its last epoch, as in Keras.
    let none = model
        .fit(&x, &y, FitConfig::new(1, 16).silent().initial_epoch(1))
        .unwrap();
    assert!(none.epochs.is_empty());
    assert_eq!(model.epochs_completed(), 1);
}

#[test]
fn checkpoints_record_the_epochs_done_when_they_were_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.safetensors");
    let (x, y) = blobs(96, 6);
    let mut model = Model::compile(
        network(true),
        SparseCategoricalCrossentropy::default(),
        adam(),
        vec![],
    )
    .unwrap();
    model
        .fit(
            &x,
            &y,
            FitConfig::new(3, 16)
                .silent()
                .callback(neurite_train::ModelCheckpoint::new(&path)),
        )
        .unwrap();
    // A checkpoint holds no loss, optimizer or metrics record: `load` says what to call.
    let err = Model::<f32>::load(&path).err().unwrap().to_string();
    assert!(
        err.contains("checkpoint.safetensors") && err.contains("Model::load_and_compile"),
        "{err}"
    );
    let loaded = Model::<f32>::load_and_compile(
        &path,
        SparseCategoricalCrossentropy::default(),
        adam(),
        vec![],
    )
    .unwrap();
    assert_eq!(loaded.epochs_completed(), 3);
    // Saved at the end of epoch 3, the checkpoint is the model `fit` returned, byte for byte
    // (as `Model::save` writes it without the compile record).
    let end = dir.path().join("end.safetensors");
    let state = TrainingState {
        optimizer: model.optimizer().state(),
        epochs_completed: Some(3),
        compile: None,
    };
    model_file::write(&end, model.network(), Some(&state)).unwrap();
    assert!(std::fs::read(&path).unwrap() == std::fs::read(&end).unwrap());
}

#[test]
fn load_alone_continues_a_scheduled_optimizer_exactly() {
    // Adam on an ExponentialDecay schedule, Dropout, categorical cross-entropy and two
    // metrics: `Model::load(path)` with nothing else rebuilds all of it, and the resumed run
    // writes the same file as the uninterrupted one.
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = blobs(120, 8);
    let schedule = ExponentialDecay::new(0.02, 5, 0.7).staircase(true);
    let compile = || {
        let optimizer = Adam::new(AdamConfig {
            learning_rate: schedule.clone().into(),
            ..AdamConfig::default()
        })
        .unwrap();
        Model::compile(
            network(true),
            SparseCategoricalCrossentropy::default(),
            Box::new(optimizer),
            vec![
                Box::new(Accuracy::new()),
                Box::new(TopKAccuracy::new(2).unwrap()),
            ],
        )
        .unwrap()
    };
    let config = |epochs| FitConfig::new(epochs, 16).seed(2).silent();
    let mut straight = compile();
    straight.fit(&x, &y, config(3)).unwrap();
    let mut first = compile();
    first.fit(&x, &y, config(1)).unwrap();
    let path = dir.path().join("first.safetensors");
    first.save(&path).unwrap();

    let mut resumed = Model::<f32>::load(&path).unwrap();
    assert_eq!(resumed.metric_names(), ["accuracy", "top_2_accuracy"]);
    assert_eq!(resumed.epochs_completed(), 1);
    let saved = serde_json::to_string(&resumed.optimizer().config()).unwrap();
    assert!(
        saved.contains("ExponentialDecay") && saved.contains("\"decay_rate\":0.7"),
        "the schedule is part of the file: {saved}"
    );
    assert_eq!(
        resumed.optimizer().learning_rate(),
        first.optimizer().learning_rate(),
        "the schedule continues from the saved step"
    );
    resumed
        .fit(&x, &y, config(3).initial_epoch(resumed.epochs_completed()))
        .unwrap();
    common::assert_same_file(dir.path(), &straight, &resumed);
}

#[test]
fn a_file_without_the_compile_record_says_what_to_pass() {
    // A network saved alone (or by an older neurite) has weights but no loss or optimizer.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.safetensors");
    NetworkFile::save(&network(false), &path).unwrap();
    let err = Model::<f32>::load(&path).err().unwrap();
    assert!(
        matches!(&err, neurite_train::TrainError::ModelFile(e)
            if matches!(**e, model_file::ModelFileError::NotCompiled { .. })),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("weights.safetensors") && text.contains("Model::load_and_compile"),
        "{text}"
    );
    let model = Model::<f32>::load_and_compile(
        &path,
        SparseCategoricalCrossentropy::default(),
        adam(),
        accuracy(),
    )
    .unwrap();
    assert_eq!(model.epochs_completed(), 0);
    assert_eq!(
        model.network().param("dense.weight").unwrap().value(),
        network(false).param("dense.weight").unwrap().value()
    );
}
