//! `Flatten` and `Reshape`: change the per-sample shape, keep the data (row-major order).

use ndarray::ArrayViewD;
use neurite_tensor::{Float, Rng, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::fmt_batch_shape;
use crate::layer::{check_batch, check_grad, empty, ensure_shape, layer_identity};
use crate::pool::NameConfig;
use crate::{Backward, Layer, LayerError, Mode, Result};

/// Copies `x` into `buf` reshaped to `shape` (row-major), reusing `buf`'s allocation.
fn copy_reshaped<F: Float>(buf: &mut Tensor<F>, x: ArrayViewD<'_, F>, shape: &[usize]) {
    ensure_shape(buf, shape);
    let x = x.as_standard_layout();
    match (buf.as_slice_mut(), x.as_slice()) {
        (Some(dst), Some(src)) => dst.copy_from_slice(src),
        _ => unreachable!("both are standard layout"),
    }
}

/// Shared state of the two reshaping layers: the built shapes and the two buffers.
struct Reshaper<F: Float> {
    shapes: Option<(Vec<usize>, Vec<usize>)>,
    y: Tensor<F>,
    d_x: Tensor<F>,
    cached: bool,
}

impl<F: Float> Reshaper<F> {
    fn new() -> Self {
        Reshaper {
            shapes: None,
            y: empty(),
            d_x: empty(),
            cached: false,
        }
    }

    fn forward(
        &mut self,
        describe: &dyn Fn() -> String,
        x: ArrayViewD<'_, F>,
        mode: Mode,
    ) -> Result<ArrayViewD<'_, F>> {
        let (input, output) = self
            .shapes
            .as_ref()
            .ok_or_else(|| LayerError::NotBuilt { layer: describe() })?;
        check_batch(describe, x.shape(), input)?;
        let mut shape = vec![x.shape()[0]];
        shape.extend_from_slice(output);
        copy_reshaped(&mut self.y, x, &shape);
        self.cached = mode == Mode::Train;
        Ok(self.y.view())
    }

    fn backward(
        &mut self,
        describe: &dyn Fn() -> String,
        d_y: ArrayViewD<'_, F>,
        opts: Backward,
    ) -> Result<()> {
        let Some((input, _)) = self.shapes.as_ref().filter(|_| self.cached) else {
            return Err(LayerError::NoForwardCache { layer: describe() });
        };
        check_grad(describe, d_y.shape(), self.y.shape())?;
        if opts.need_input_grad {
            let mut shape = vec![d_y.shape()[0]];
            shape.extend_from_slice(input);
            copy_reshaped(&mut self.d_x, d_y, &shape);
        }
        Ok(())
    }
}

/// Flattens each sample to one feature axis: `[N, d1, d2, ...] -> [N, d1 * d2 * ...]`.
///
/// ```
/// use neurite_layers::{Flatten, Layer};
/// let flatten = Flatten::<f32>::new();
/// assert_eq!(flatten.output_shape(&[32, 5, 5]).unwrap(), vec![800]);
/// ```
pub struct Flatten<F: Float> {
    cfg: NameConfig,
    state: Reshaper<F>,
}

impl<F: Float> Default for Flatten<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> Flatten<F> {
    /// A new layer.
    pub fn new() -> Self {
        Self::from_config(NameConfig::default())
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: NameConfig) -> Self {
        Flatten {
            cfg,
            state: Reshaper::new(),
        }
    }
}

impl<F: Float> Layer<F> for Flatten<F> {
    layer_identity!("Flatten", "flatten", Flatten);

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![
            checked_product(input_shape).ok_or_else(|| too_large(self.describe(), input_shape))?,
        ])
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        self.state.shapes = Some((input_shape.to_vec(), out.clone()));
        self.state.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let name = &self.cfg.name;
        self.state
            .forward(&|| format!("Flatten '{name}'"), input, mode)
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.state.y.view()
    }

    fn infers_as_reshape(&self) -> bool {
        true
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let name = &self.cfg.name;
        self.state
            .backward(&|| format!("Flatten '{name}'"), d_output, opts)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.state.d_x.view()
    }
}

/// Hyper-parameters of [`Reshape`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReshapeConfig {
    /// Layer name (empty: a `Sequential` assigns one).
    pub name: String,
    /// The per-sample output shape; one entry may be -1 (inferred from the element count).
    pub target_shape: Vec<i64>,
}

/// Reshapes each sample to `target_shape` (row-major order, batch axis kept).
///
/// ```
/// use neurite_layers::{Layer, Reshape};
/// let reshape = Reshape::<f32>::new(&[1, -1, 28]);
/// assert_eq!(reshape.output_shape(&[784]).unwrap(), vec![1, 28, 28]);
/// assert!(reshape.output_shape(&[100]).is_err());
/// ```
pub struct Reshape<F: Float> {
    cfg: ReshapeConfig,
    state: Reshaper<F>,
}

impl<F: Float> Reshape<F> {
    /// Reshapes samples to `target_shape` (one entry may be -1).
    pub fn new(target_shape: &[i64]) -> Self {
        Self::from_config(ReshapeConfig {
            name: String::new(),
            target_shape: target_shape.to_vec(),
        })
    }

    /// A layer from its configuration.
    pub fn from_config(cfg: ReshapeConfig) -> Self {
        Reshape {
            cfg,
            state: Reshaper::new(),
        }
    }
}

impl<F: Float> Layer<F> for Reshape<F> {
    layer_identity!("Reshape", "reshape", Reshape);

    fn output_shape(&self, input_shape: &[usize]) -> Result<Vec<usize>> {
        let target = &self.cfg.target_shape;
        let total =
            checked_product(input_shape).ok_or_else(|| too_large(self.describe(), input_shape))?;
        let invalid = |reason: String| LayerError::Config {
            layer: self.describe(),
            name: "target_shape",
            value: format!("{target:?}"),
            reason,
        };
        let inferred = target.iter().filter(|&&d| d == -1).count();
        if inferred > 1 || target.iter().any(|&d| d < -1 || d == 0) {
            return Err(invalid(String::from(
                "entries must be positive, with at most one -1",
            )));
        }
        let positive: Vec<usize> = target
            .iter()
            .filter(|&&d| d > 0)
            .map(|&d| d as usize)
            .collect();
        let known = checked_product(&positive)
            .ok_or_else(|| invalid(String::from("the product of the entries overflows")))?;
        let missing = if inferred == 1 {
            if known == 0 || total % known != 0 {
                None
            } else {
                Some(total / known)
            }
        } else {
            (known == total).then_some(1)
        };
        let Some(missing) = missing.filter(|_| total > 0) else {
            return Err(LayerError::Shape {
                layer: self.describe(),
                expected: format!("samples whose size fits {target:?}"),
                got: fmt_batch_shape(input_shape),
                hint: format!("{total} elements per sample cannot be reshaped to {target:?}"),
            });
        };
        Ok(target
            .iter()
            .map(|&d| if d == -1 { missing } else { d as usize })
            .collect())
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.output_shape(input_shape)?;
        self.state.shapes = Some((input_shape.to_vec(), out.clone()));
        self.state.cached = false;
        Ok(out)
    }

    fn forward(&mut self, input: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let name = &self.cfg.name;
        self.state
            .forward(&|| format!("Reshape '{name}'"), input, mode)
    }

    fn output(&self) -> ArrayViewD<'_, F> {
        self.state.y.view()
    }

    fn infers_as_reshape(&self) -> bool {
        true
    }

    fn backward(&mut self, d_output: ArrayViewD<'_, F>, opts: Backward) -> Result<()> {
        let name = &self.cfg.name;
        self.state
            .backward(&|| format!("Reshape '{name}'"), d_output, opts)
    }

    fn input_grad(&self) -> ArrayViewD<'_, F> {
        self.state.d_x.view()
    }
}

/// The number of elements of `shape`, or None if it does not fit in a `usize`.
fn checked_product(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

fn too_large(layer: String, shape: &[usize]) -> LayerError {
    LayerError::Shape {
        layer,
        expected: String::from("a per-sample shape whose element count fits in memory"),
        got: crate::error::fmt_shape(shape),
        hint: String::from("the input shape is absurdly large; check the model file or build call"),
    }
}
