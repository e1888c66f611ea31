//! User-defined layers and optimizers take part in `Model::save` / `Model::load` through a
//! `Registry`: a model with a custom layer, trained with a custom optimizer, saved mid-way and
//! loaded continues bit for bit as the uninterrupted run; without the registry, loading says
//! what to register.

use ndarray::{ArrayViewD, Zip};
use neurite_layers::{
    Activation, Backward, CustomLayerConfig, Dense, Layer, LayerConfig, LayerError, Mode,
    Sequential,
};
use neurite_losses::SparseCategoricalCrossentropy;
use neurite_metrics::streaming::Accuracy;
use neurite_optim::{
    CustomOptimizerConfig, OptimError, Optimizer, OptimizerConfig, OptimizerState,
};
use neurite_tensor::{Param, Rng, Tensor};
use neurite_train::model_file::Registry;
use neurite_train::{FitConfig, Model};
use serde_json::json;

use crate::common;

/// `y = x * scale` per feature, with a trainable `scale` starting at `init`.
struct Affine {
    name: String,
    init: f32,
    scale: Param<f32>,
    x: Tensor<f32>,
    y: Tensor<f32>,
    d_x: Tensor<f32>,
}

impl Affine {
    fn new(init: f32) -> Self {
        let empty = || Tensor::zeros(vec![0]);
        Affine {
            name: String::new(),
            init,
            scale: Param::new("scale", empty()),
            x: empty(),
            y: empty(),
            d_x: empty(),
        }
    }

    fn from_config(config: &CustomLayerConfig) -> Result<Box<dyn Layer<f32>>, String> {
        let init = config.config["init"]
            .as_f64()
            .ok_or_else(|| format!("no 'init' number in {}", config.config))?;
        Ok(Box::new(Affine::new(init as f32)))
    }
}

impl Layer<f32> for Affine {
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &str) {
        self.name = name.to_string();
    }
    fn class_name(&self) -> &'static str {
        "Affine"
    }
    fn default_name(&self) -> &'static str {
        "affine"
    }
    fn config(&self) -> LayerConfig {
        LayerConfig::Custom(CustomLayerConfig {
            name: self.name.clone(),
            class: String::from("Affine"),
            config: json!({ "init": self.init }),
        })
    }
    fn output_shape(&self, input_shape: &[usize]) -> neurite_layers::Result<Vec<usize>> {
        Ok(input_shape.to_vec())
    }
    fn param_shapes(&self, input_shape: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
        vec![("scale", input_shape.to_vec())]
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Rng) -> neurite_layers::Result<Vec<usize>> {
        if self.scale.value().shape() != input_shape {
            self.scale = Param::new("scale", Tensor::from_elem(input_shape.to_vec(), self.init));
        }
        Ok(input_shape.to_vec())
    }
    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mode: Mode,
    ) -> neurite_layers::Result<ArrayViewD<'_, f32>> {
        let scale =
            self.scale
                .value()
                .broadcast(input.shape())
                .ok_or_else(|| LayerError::NotBuilt {
                    layer: self.describe(),
                })?;
        self.y = &input * &scale;
        if mode == Mode::Train {
            self.x = input.to_owned();
        }
        Ok(self.y.view())
    }
    fn output(&self) -> ArrayViewD<'_, f32> {
        self.y.view()
    }
    fn backward(
        &mut self,
        d_output: ArrayViewD<'_, f32>,
        opts: Backward,
    ) -> neurite_layers::Result<()> {
        for (row_x, row_d) in self.x.outer_iter().zip(d_output.outer_iter()) {
            Zip::from(self.scale.grad_mut())
                .and(&row_x)
                .and(&row_d)
                .for_each(|g, &x, &d| *g += x * d);
        }
        if opts.need_input_grad {
            self.d_x = &d_output * &self.scale.value().broadcast(d_output.shape()).unwrap();
        }
        Ok(())
    }
    fn input_grad(&self) -> ArrayViewD<'_, f32> {
        self.d_x.view()
    }
    fn params(&self) -> Vec<&Param<f32>> {
        vec![&self.scale]
    }
    fn params_mut(&mut self) -> Vec<&mut Param<f32>> {
        vec![&mut self.scale]
    }
}

/// Sign SGD: `w -= rate * sign(g)`, with a step count and no slots.
#[derive(Debug)]
struct SignSgd {
    rate: f64,
    iterations: u64,
}

impl SignSgd {
    fn from_config(config: &serde_json::Value) -> Result<Box<dyn Optimizer<f32>>, String> {
        let rate = config["rate"].as_f64().ok_or("no 'rate'")?;
        Ok(Box::new(SignSgd {
            rate,
            iterations: 0,
        }))
    }
}

impl Optimizer<f32> for SignSgd {
    fn name(&self) -> &'static str {
        "SignSgd"
    }
    fn config(&self) -> OptimizerConfig {
        OptimizerConfig::Custom(CustomOptimizerConfig {
            class_name: String::from("SignSgd"),
            config: json!({ "rate": self.rate }),
        })
    }
    fn step(&mut self, params: &mut [&mut Param<f32>]) -> neurite_optim::Result<()> {
        let rate = self.rate as f32;
        for p in params.iter_mut().filter(|p| p.is_trainable()) {
            let (w, g) = p.value_and_grad_mut();
            Zip::from(w)
                .and(&*g)
                .for_each(|w, &g| *w -= rate * g.signum());
        }
        self.iterations += 1;
        Ok(())
    }
    fn iterations(&self) -> u64 {
        self.iterations
    }
    fn learning_rate(&self) -> f64 {
        self.rate
    }
    fn set_learning_rate(&mut self, learning_rate: f64) -> neurite_optim::Result<()> {
        self.rate = learning_rate;
        Ok(())
    }
    fn state(&self) -> OptimizerState<f32> {
        OptimizerState {
            optimizer: String::from("SignSgd"),
            iterations: self.iterations,
            learning_rate: self.rate,
            tensors: Vec::new(),
        }
    }
    fn load_state(&mut self, state: OptimizerState<f32>) -> neurite_optim::Result<()> {
        if state.optimizer != "SignSgd" {
            return Err(OptimError::StateKind {
                optimizer: "SignSgd",
                saved: state.optimizer,
                hint: String::from("load SignSgd state"),
            });
        }
        self.iterations = state.iterations;
        self.rate = state.learning_rate;
        Ok(())
    }
}

fn compiled() -> Model<f32> {
    let mut net = Sequential::with_seed(3)
        .add(Affine::new(0.5))
        .add(Dense::new(8).activation(Activation::Relu))
        .add(Dense::new(3).activation(Activation::Softmax));
    net.build(&[2]).unwrap();
    Model::compile(
        net,
        SparseCategoricalCrossentropy::default(),
        Box::new(SignSgd {
            rate: 0.01,
            iterations: 0,
        }),
        vec![Box::new(Accuracy::new())],
    )
    .unwrap()
}

fn registry() -> Registry<f32> {
    Registry::new()
        .layer("Affine", Affine::from_config)
        .optimizer("SignSgd", SignSgd::from_config)
}

#[test]
fn a_custom_layer_and_optimizer_save_and_load_through_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = common::blobs::<f32>(90, 2, 0.8);
    let config = |epochs| FitConfig::new(epochs, 15).seed(4).silent();

    let mut straight = compiled();
    straight.fit(&x, &y, config(4)).unwrap();
    let mut first = compiled();
    first.fit(&x, &y, config(2)).unwrap();
    let path = dir.path().join("custom.safetensors");
    first.save(&path).unwrap();

    // Without the constructors, loading names what is missing and how to supply it.
    let err = Model::<f32>::load(&path).err().unwrap().to_string();
    assert!(
        err.contains("custom.safetensors")
            && err.contains("Affine")
            && err.contains("Registry::layer"),
        "{err}"
    );
    let only_layer = Registry::new().layer("Affine", Affine::from_config);
    let err = Model::<f32>::load_registered(&path, &only_layer)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("SignSgd") && err.contains("Registry::optimizer"),
        "{err}"
    );

    let mut resumed = Model::load_registered(&path, &registry()).unwrap();
    assert_eq!(resumed.epochs_completed(), 2);
    assert_eq!(resumed.optimizer().name(), "SignSgd");
    assert_eq!(
        resumed.optimizer().iterations(),
        first.optimizer().iterations()
    );
    assert_eq!(resumed.network().layers()[0].name(), "affine");
    let scale = |m: &Model<f32>| m.network().param("affine.scale").unwrap().value().clone();
    assert_eq!(scale(&resumed), scale(&first));
    assert_ne!(
        scale(&first),
        Tensor::from_elem(vec![2], 0.5),
        "the custom layer trained"
    );

    resumed
        .fit(&x, &y, config(4).initial_epoch(resumed.epochs_completed()))
        .unwrap();
    common::assert_same_file(dir.path(), &straight, &resumed);
}

#[test]
fn a_constructor_that_refuses_its_config_is_reported_with_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    compiled().save(&path).unwrap();
    let picky = Registry::new()
        .layer("Affine", |_: &CustomLayerConfig| {
            Err(String::from("init out of range"))
        })
        .optimizer("SignSgd", SignSgd::from_config);
    let err = Model::<f32>::load_registered(&path, &picky)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("m.safetensors")
            && err.contains("Affine 'affine'")
            && err.contains("init out of range"),
        "{err}"
    );
}
