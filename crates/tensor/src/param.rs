//! `Param`: a named tensor with its gradient, the unit optimizers and model files handle.

use ndarray::ArrayD;

use crate::{Float, Tensor};

/// A named value and the gradient accumulated for it by backward passes.
///
/// The gradient always has the value's shape. Backward passes *add* into it; an explicit
/// [`Param::zero_grad`] clears it between steps. Non-trainable state (a BatchNorm running mean,
/// say) is a `Param` with `trainable == false`: saved with the model, skipped by optimizers.
///
/// ```
/// use ndarray::ArrayD;
/// use neurite_tensor::Param;
/// let mut p = Param::new("weight", ArrayD::<f32>::ones(vec![2, 3]));
/// p.grad_mut().fill(0.5);
/// assert_eq!(p.grad().sum(), 3.0);
/// p.zero_grad();
/// assert_eq!(p.grad().sum(), 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Param<F: Float> {
    name: String,
    value: Tensor<F>,
    grad: Tensor<F>,
    trainable: bool,
}

impl<F: Float> Param<F> {
    /// A trainable parameter with a zero gradient.
    pub fn new(name: impl Into<String>, value: Tensor<F>) -> Self {
        let grad = ArrayD::zeros(value.raw_dim());
        Param {
            name: name.into(),
            value,
            grad,
            trainable: true,
        }
    }

    /// State that is saved with the model but not trained (its gradient stays zero).
    pub fn non_trainable(name: impl Into<String>, value: Tensor<F>) -> Self {
        Param {
            trainable: false,
            ..Self::new(name, value)
        }
    }

    /// The parameter's name within its layer (`weight`, `bias`, `gamma`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the parameter (a model prefixes layer names: `dense_1.weight`).
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Whether optimizers update this parameter.
    pub fn is_trainable(&self) -> bool {
        self.trainable
    }

    /// The current value.
    pub fn value(&self) -> &Tensor<F> {
        &self.value
    }

    /// The value, for in-place updates. Its shape must not change.
    pub fn value_mut(&mut self) -> &mut Tensor<F> {
        &mut self.value
    }

    /// The accumulated gradient.
    pub fn grad(&self) -> &Tensor<F> {
        &self.grad
    }

    /// The gradient, for accumulation by backward passes.
    pub fn grad_mut(&mut self) -> &mut Tensor<F> {
        &mut self.grad
    }

    /// The value to update and the gradient to read, borrowed at once (what optimizers need).
    pub fn value_and_grad_mut(&mut self) -> (&mut Tensor<F>, &mut Tensor<F>) {
        (&mut self.value, &mut self.grad)
    }

    /// Replaces the value with one of the same shape; returns false (and changes nothing) if the
    /// shape differs.
    pub fn assign(&mut self, value: Tensor<F>) -> bool {
        if value.shape() != self.value.shape() {
            return false;
        }
        self.value = value;
        true
    }

    /// Sets the gradient to zero.
    pub fn zero_grad(&mut self) {
        self.grad.fill(F::zero());
    }

    /// The number of scalars in the value.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the value holds no scalars.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}
