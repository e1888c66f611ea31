//! The model of a run: compiled fresh, or loaded from the run being resumed; and the optimizer
//! the command line asks for.

use std::path::Path;

use anyhow::{Context as _, bail};
use neurite::layers::Sequential;
use neurite::losses::Loss;
use neurite::metrics::streaming::StreamingMetric;
use neurite::optim::{
    Adagrad, Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use neurite::train::Model;

use super::OptimizerKind;

/// `network` compiled with `loss`; or, when resuming (`file` = the run directory and its model
/// file), the model, optimizer state and epoch count from the file, which must hold `network`'s
/// architecture.
pub(super) fn compile_or_load(
    network: Sequential<f32>,
    loss: impl Loss<f32> + 'static,
    optimizer: Box<dyn Optimizer<f32>>,
    metrics: Vec<Box<dyn StreamingMetric<f32>>>,
    file: Option<(&Path, &Path)>,
) -> anyhow::Result<Model<f32>> {
    let Some((dir, path)) = file else {
        let builder = Model::new(network).loss(loss).boxed_optimizer(optimizer);
        let builder = metrics.into_iter().fold(builder, |b, m| b.boxed_metric(m));
        return Ok(builder.compile()?);
    };
    let model = Model::load_and_compile(path, loss, optimizer, metrics).with_context(|| {
        format!(
            "--resume {}: cannot continue from {}",
            dir.display(),
            path.display()
        )
    })?;
    if model.network().config()? != network.config()? {
        bail!(
            "--resume {}: {} holds another architecture than the run's settings in run.json describe (a model file copied in from another run?)",
            dir.display(),
            path.display()
        );
    }
    Ok(model)
}

pub(super) fn optimizer(
    kind: OptimizerKind,
    lr: Option<f64>,
) -> anyhow::Result<Box<dyn Optimizer<f32>>> {
    Ok(match kind {
        OptimizerKind::Adam => Box::new(Adam::with_learning_rate(lr.unwrap_or(1e-3))?),
        OptimizerKind::Adamw => Box::new(Adam::new(AdamConfig {
            learning_rate: lr.unwrap_or(1e-3).into(),
            ..AdamConfig::adamw()
        })?),
        OptimizerKind::Sgd => Box::new(Sgd::new(SgdConfig {
            learning_rate: lr.unwrap_or(1e-2).into(),
            ..SgdConfig::default()
        })?),
        OptimizerKind::Rmsprop => Box::new(RmsProp::new(RmsPropConfig {
            learning_rate: lr.unwrap_or(1e-3).into(),
            ..RmsPropConfig::default()
        })?),
        OptimizerKind::Adagrad => Box::new(Adagrad::new(neurite::optim::AdagradConfig {
            learning_rate: lr.unwrap_or(1e-2).into(),
            ..Default::default()
        })?),
    })
}
