//! Weight initializers, with Keras' definitions.
//!
//! The variance-scaling family follows Keras: `*_uniform` draws from `U(-l, l)` with
//! `l = sqrt(3 * scale / n)`, and `*_normal` from a normal truncated at two standard deviations
//! whose standard deviation is `sqrt(scale / n) / 0.87962566103423978` (the correction makes the
//! truncated distribution's variance `scale / n`). Glorot uses `scale = 1, n = (fan_in + fan_out)
//! / 2`, He `scale = 2, n = fan_in`, LeCun `scale = 1, n = fan_in`.

use serde::{Deserialize, Serialize};

use crate::{Float, Result, Rng, Tensor, TensorError};

/// Standard deviation of a standard normal truncated to [-2, 2].
const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_8;

/// The fan-in and fan-out of a weight tensor, which variance-scaling initializers need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fans {
    /// Inputs feeding each output unit.
    pub fan_in: usize,
    /// Outputs each input unit feeds.
    pub fan_out: usize,
}

impl Fans {
    /// Fans of a dense kernel mapping `inputs` to `units`.
    pub fn dense(inputs: usize, units: usize) -> Self {
        Fans {
            fan_in: inputs,
            fan_out: units,
        }
    }

    /// Fans of a convolution kernel `[filters, channels, kh, kw]`.
    pub fn conv2d(filters: usize, channels: usize, kh: usize, kw: usize) -> Self {
        Fans {
            fan_in: channels * kh * kw,
            fan_out: filters * kh * kw,
        }
    }
}

/// How to fill a new weight tensor.
///
/// ```
/// use neurite_tensor::{Fans, Initializer, Rng};
/// let w = Initializer::GlorotUniform.init::<f32>(&[784, 128], Fans::dense(784, 128), &mut Rng::new(0)).unwrap();
/// let limit = (6.0f32 / (784.0 + 128.0)).sqrt();
/// assert!(w.iter().all(|v| v.abs() <= limit));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Initializer {
    /// All zeros (Keras' default for biases).
    Zeros,
    /// All ones (BatchNorm's gamma).
    Ones,
    /// Every entry `value`.
    Constant {
        /// The value.
        value: f64,
    },
    /// Uniform on `[low, high)` (Keras `RandomUniform`, default -0.05..0.05).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal (Keras `RandomNormal`, default mean 0, std 0.05).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Glorot/Xavier uniform (Keras' default for kernels).
    GlorotUniform,
    /// Glorot/Xavier normal (truncated).
    GlorotNormal,
    /// He/Kaiming uniform.
    HeUniform,
    /// He/Kaiming normal (truncated).
    HeNormal,
    /// LeCun uniform.
    LecunUniform,
    /// LeCun normal (truncated).
    LecunNormal,
}

impl Initializer {
    /// A new tensor of `shape` drawn from this initializer.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for a negative standard deviation, `low > high`, a
    /// non-finite parameter, or zero fans for a variance-scaling initializer.
    pub fn init<F: Float>(&self, shape: &[usize], fans: Fans, rng: &mut Rng) -> Result<Tensor<F>> {
        const OP: &str = "Initializer::init";
        let sample: Box<dyn FnMut(&mut Rng) -> f64> = match *self {
            Initializer::Zeros => return Ok(Tensor::zeros(shape)),
            Initializer::Ones => return Ok(Tensor::ones(shape)),
            Initializer::Constant { value } => {
                return Ok(Tensor::from_elem(shape, F::from_f64(value)));
            }
            Initializer::Uniform { low, high } => {
                if !low.is_finite() || !high.is_finite() || low > high {
                    return Err(TensorError::invalid(
                        OP,
                        "uniform bounds",
                        format!("[{low}, {high})"),
                        "need finite low <= high",
                    ));
                }
                Box::new(move |r| r.uniform(low, high))
            }
            Initializer::Normal { mean, std } => {
                if !mean.is_finite() || !std.is_finite() || std < 0.0 {
                    return Err(TensorError::invalid(
                        OP,
                        "normal std",
                        std,
                        "need a finite mean and std >= 0",
                    ));
                }
                Box::new(move |r| r.normal_with(mean, std))
            }
            scaling => {
                let (scale, n, uniform) = match scaling {
                    Initializer::GlorotUniform => (1.0, fan_avg(fans), true),
                    Initializer::GlorotNormal => (1.0, fan_avg(fans), false),
                    Initializer::HeUniform => (2.0, fans.fan_in as f64, true),
                    Initializer::HeNormal => (2.0, fans.fan_in as f64, false),
                    Initializer::LecunUniform => (1.0, fans.fan_in as f64, true),
                    _ => (1.0, fans.fan_in as f64, false),
                };
                if n <= 0.0 {
                    return Err(TensorError::invalid(
                        OP,
                        "fans",
                        format!("{fans:?}"),
                        "variance scaling needs positive fans",
                    ));
                }
                if uniform {
                    let limit = (3.0 * scale / n).sqrt();
                    Box::new(move |r| r.uniform(-limit, limit))
                } else {
                    let std = (scale / n).sqrt() / TRUNCATED_NORMAL_STD;
                    Box::new(move |r| std * r.truncated_normal())
                }
            }
        };
        let mut sample = sample;
        Ok(Tensor::from_shape_simple_fn(shape, || {
            F::from_f64(sample(rng))
        }))
    }
}

fn fan_avg(fans: Fans) -> f64 {
    (fans.fan_in + fans.fan_out) as f64 / 2.0
}
