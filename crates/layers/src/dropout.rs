//! `Dropout`: inverted dropout, seeded per layer.
//!
//! In `Mode::Train` each element is zeroed with probability `rate` and the survivors are scaled
//! by `1 / (1 - rate)`, so the expected output equals the input and inference is the identity.
//! Masks come from the layer's own stream `Rng::with_stream(seed, layer_index)`, drawn on one
//! thread in element order, so a seed gives the same masks whatever the thread count.

use ndarray::{ArrayViewD, Zip};
use neurite_tensor::{Float, Rng, Tensor};
use serde::{Deserialize, Serialize};

use crate::layer::{check_backward, check_batch, empty, ensure_shape, layer_identity};
use crate::{Backward, Layer, LayerError, Mode, Result};

/// Hyper-parameters of [`Dropout`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropoutConfig {
    /// Layer name (empty: a `Sequential` assigns one).
    pub name: String,
    /// Fraction of the inputs to drop, in `[0, 1)`.
    pub rate: f64,
}

/// Inverted dropout.
///
/// # Shapes
/// any `[N, ...]`, output of the same shape.
///
/// ```
/// use neurite_layers::{Dropout, Layer, Mode};
/// use neurite_tensor::Rng;
/// let mut drop = Dropout::<f64>::new(0.5);
/// drop.build(&[1000], &mut Rng::new(7)).unwrap();
/// let x = ndarray::ArrayD::<f64>::ones(vec![1, 1000]);
/// let y = drop.forward(x.view(), Mode::Train).unwrap();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// assert_eq!(drop.forward(x.view(), Mode::Infer).unwrap(), x.view());
/// ```
pub struct Dropout<F: Float> {
    cfg: DropoutConfig,
    input: Option<Vec<usize>>,
    rng: Rng,
    /// `0` or `1 / (1 - rate)` per element (Train only).
    mask: Tensor<F>,
    y: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> Dropout<F> {
    /// Drops a fraction `rate` of the inputs during training.
    pub fn new(rate: f64) -> Self {
        Self::from_config(DropoutConfig {
            name: String::new(),
            rate,
        })
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: DropoutConfig) -> Self {
        Dropout {
            cfg,
            input: None,
            rng: Rng::new(0),
            mask: empty(),
            y: empty(),
            d_x: empty(),
            cached: false,
        }
    }

    /// Names the layer.
    pub fn named(mut self, name: &str) -> Self {
        self.cfg.name = name.to_string();
        self
    }
}

impl<F: Float> Layer<F> for Dropout<F> {
    layer_identity!("Dropout", "dropout", Dropout);

    fn describe(&self) -> String {
        format!("Dropout({}) '{}'", self.cfg.rate, self.cfg.name)
    }

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        if !(0.0..1.0).contains(&self.cfg.rate) {
            return Err(LayerError::Config {
                layer: self.describe(),
                name: "rate",
                value: self.cfg.rate.to_string(),
                reason: String::from("must be in [0, 1)"),
            });
        }
        Ok(input_shape.to_vec())
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        self.input = Some(input_shape.to_vec());
        self.rng = rng.clone();
        self.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let cfg = &self.cfg;
        let describe = || format!("Dropout({}) '{}'", cfg.rate, cfg.name);
        let sample = self
            .input
            .as_ref()
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(&describe, input.shape(), sample)?;
        ensure_shape(&mut self.y, input.shape());
        self.cached = mode == Mode::Train;
        if mode == Mode::Infer {
            self.y.assign(&input);
            return Ok(self.y.view());
        }
        ensure_shape(&mut self.mask, input.shape());
        let rate = self.cfg.rate;
        let keep = F::from_f64(1.0 / (1.0 - rate));
        // One draw per element, in order, on this thread: reproducible for any thread count.
        let rng = &mut self.rng;
        self.mask.iter_mut().for_each(|m| {
            *m = if rng.next_f64() < rate {
                F::zero()
            } else {
                keep
            }
        });
        Zip::from(&mut self.y)
            .and(&input)
            .and(&self.mask)
            .for_each(|y, &x, &m| *y = x * m);
        Ok(self.y.view())
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.y.view()
    }

    fn infers_as_reshape(&self) -> bool {
        true
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let cfg = &self.cfg;
        let describe = || format!("Dropout({}) '{}'", cfg.rate, cfg.name);
        check_backward(&describe, self.cached, d_output.shape(), self.y.shape())?;
        if opts.need_input_grad {
            ensure_shape(&mut self.d_x, d_output.shape());
            Zip::from(&mut self.d_x)
                .and(&d_output)
                .and(&self.mask)
                .for_each(|d_x, &d_y, &m| *d_x = d_y * m);
        }
        Ok(())
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.d_x.view()
    }

    fn rng_state(&self) -> Option<[u64; 6]> {
        Some(self.rng.to_words())
    }

    fn set_rng_state(&mut self, words: [u64; 6]) -> bool {
        match Rng::from_words(words) {
            Some(rng) => {
                self.rng = rng;
                true
            }
            None => false,
        }
    }
}
