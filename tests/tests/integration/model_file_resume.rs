//! Resuming from a model file with its optimizer state continues training exactly as if it had
//! never stopped: after 3 + 3 Adam steps with a save and load in between, every parameter is
//! bit-identical to 6 uninterrupted steps.

use ndarray::{ArrayD, IxDyn};
use neurite_layers::{
    Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D, Mode, Sequential,
};
use neurite_optim::{Adam, Optimizer};
use neurite_tensor::{Param, Rng};
use neurite_train::model_file::{ModelReader, TrainingState, write};

fn data() -> (ArrayD<f32>, ArrayD<f32>) {
    let mut rng = Rng::new(5);
    let x = ArrayD::from_shape_fn(IxDyn(&[16, 2, 9, 9]), |_| rng.normal() as f32);
    let y = ArrayD::from_shape_fn(IxDyn(&[16, 4]), |_| rng.uniform(0.0, 1.0) as f32);
    (x, y)
}

/// One step of squared-error training (gradient `2 (p - y) / N` w.r.t. the output).
fn step(model: &mut Sequential<f32>, opt: &mut Adam<f32>, x: &ArrayD<f32>, y: &ArrayD<f32>) {
    model.zero_grad();
    let p = model.forward(x.view(), Mode::Train).unwrap().to_owned();
    let d = (&p - y).mapv(|v| 2.0 * v / 16.0);
    model.backward(d.view()).unwrap();
    let mut params: Vec<&mut Param<f32>> = model
        .params_mut()
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p.is_trainable())
        .collect();
    opt.step(&mut params).unwrap();
}

#[test]
fn resumed_training_matches_uninterrupted_training_bit_for_bit() {
    let (x, y) = data();
    // BatchNorm's running statistics move during training and must be saved. (No Dropout:
    // its mask stream position is not part of the model file yet.)
    let fresh = || {
        let mut model = Sequential::<f32>::with_seed(9)
            .add(Conv2D::new(4, (3, 3)).activation(Activation::Relu))
            .add(BatchNormalization::new())
            .add(MaxPooling2D::new((2, 2)))
            .add(Flatten::new())
            .add(Dense::new(4).activation(Activation::Sigmoid));
        model.build(&[2, 9, 9]).unwrap();
        model
    };

    let mut straight = fresh();
    let mut opt = Adam::<f32>::default();
    for _ in 0..6 {
        step(&mut straight, &mut opt, &x, &y);
    }

    let mut first = fresh();
    let mut opt = Adam::<f32>::default();
    for _ in 0..3 {
        step(&mut first, &mut opt, &x, &y);
    }
    let saved = TrainingState {
        optimizer: opt.state(),
        epochs_completed: None,
        compile: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.safetensors");
    write(&path, &first, Some(&saved)).unwrap();

    let loaded = ModelReader::new().read::<f32>(&path).unwrap();
    let mut resumed = loaded.model;
    let mut opt = Adam::<f32>::default();
    opt.load_state(loaded.training.unwrap().optimizer).unwrap();
    for _ in 0..3 {
        step(&mut resumed, &mut opt, &x, &y);
    }
    assert_eq!(opt.iterations(), 6);
    let moved = straight.param("batch_normalization.moving_mean").unwrap();
    assert!(moved.value().iter().any(|&m| m != 0.0), "statistics moved");
    for ((name, a), (_, b)) in straight.params().iter().zip(resumed.params()) {
        let same = a
            .value()
            .iter()
            .zip(b.value())
            .all(|(u, v)| u.to_bits() == v.to_bits());
        assert!(same, "{name} differs after resuming");
    }
}
