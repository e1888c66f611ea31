//! The parameters of a [`Sequential`]: by full name (`dense.weight`), their gradients and
//! counts, and what a model file is checked against before anything is built: every parameter
//! the model will have ([`Sequential::param_shapes`]) and whether it fits its memory limit
//! ([`Sequential::check_size`]).

use neurite_tensor::{Float, Param, Tensor};

use crate::{LayerError, Result, Sequential};

impl<F: Float> Sequential<F> {
    /// Refuses, naming the layer, a model too large for its memory limit for `input_shape`
    /// (`shapes` from [`Sequential::output_shapes`]), without allocating: what a model-file
    /// reader calls before it reads any tensor.
    ///
    /// # Errors
    /// [`crate::LayerError::TooLarge`] naming the layer at which the total crosses the limit.
    pub fn check_size(&self, input_shape: &[usize], shapes: &[Vec<usize>]) -> Result<()> {
        self.check_footprint(input_shape, shapes).map(|_| ())
    }

    /// The full name (`<layer>.<param>`) and shape of every parameter and state tensor the
    /// model will have when built for `input_shape`, in [`Sequential::params`] order; `shapes`
    /// are the layers' outputs from [`Sequential::output_shapes`]. Nothing is allocated but
    /// the list, so a model file can be checked against its architecture first.
    ///
    /// ```
    /// use neurite_layers::{Dense, Flatten, Sequential};
    /// let model = Sequential::<f32>::new().add(Flatten::new()).add(Dense::new(10));
    /// let shapes = model.output_shapes(&[2, 3]).unwrap();
    /// assert_eq!(
    ///     model.param_shapes(&[2, 3], &shapes),
    ///     vec![
    ///         (String::from("dense.weight"), vec![10, 6]),
    ///         (String::from("dense.bias"), vec![10]),
    ///     ]
    /// );
    /// ```
    pub fn param_shapes(
        &self,
        input_shape: &[usize],
        shapes: &[Vec<usize>],
    ) -> Vec<(String, Vec<usize>)> {
        let inputs = std::iter::once(input_shape).chain(shapes.iter().map(Vec::as_slice));
        self.layers()
            .iter()
            .zip(inputs)
            .flat_map(|(layer, input)| {
                layer
                    .param_shapes(input)
                    .into_iter()
                    .map(|(param, shape)| (format!("{}.{param}", layer.name()), shape))
            })
            .collect()
    }

    /// Clears every parameter's gradient.
    pub fn zero_grad(&mut self) {
        for layer in self.layers_mut() {
            for p in layer.params_mut() {
                p.zero_grad();
            }
        }
    }

    /// Every parameter and state tensor with its full name (`conv2d.weight`, `dense_1.bias`,
    /// `batch_normalization.moving_mean`), in layer order. Non-trainable state is included
    /// (`Param::is_trainable` tells them apart).
    pub fn params(&self) -> Vec<(String, &Param<F>)> {
        self.layers()
            .iter()
            .flat_map(|l| {
                l.params()
                    .into_iter()
                    .map(move |p| (full_param_name(l.name(), p.name()), p))
            })
            .collect()
    }

    /// Every parameter mutably, with its full name (what optimizers iterate over).
    pub fn params_mut(&mut self) -> Vec<(String, &mut Param<F>)> {
        self.layers_mut()
            .iter_mut()
            .flat_map(|l| {
                let name = l.name().to_string();
                l.params_mut().into_iter().map(move |p| {
                    let full = full_param_name(&name, p.name());
                    (full, p)
                })
            })
            .collect()
    }

    /// Every parameter mutably, without building name strings: what a training step hands to
    /// the optimizer. After `build`, each `Param::name()` is already the full name.
    pub fn param_refs_mut(&mut self) -> Vec<&mut Param<F>> {
        self.layers_mut()
            .iter_mut()
            .flat_map(|l| l.params_mut())
            .collect()
    }

    /// The parameter called `name` (`dense.weight`).
    ///
    /// # Errors
    /// [`LayerError::UnknownParam`] listing the names that exist.
    pub fn param(&self, name: &str) -> Result<&Param<F>> {
        let params = self.params();
        let known = || {
            params
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match params.iter().find(|(n, _)| n == name) {
            Some((_, p)) => Ok(p),
            None => Err(LayerError::UnknownParam {
                name: name.to_string(),
                known: known(),
            }),
        }
    }

    /// Replaces the value of parameter `name` (model loading). The shape must match.
    ///
    /// # Errors
    /// [`LayerError::UnknownParam`] or [`LayerError::ParamShape`]; nothing changes on error.
    pub fn set_param(&mut self, name: &str, value: Tensor<F>) -> Result<()> {
        let known = self
            .params()
            .iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let mut params = self.params_mut();
        let Some((_, p)) = params.iter_mut().find(|(n, _)| n == name) else {
            return Err(LayerError::UnknownParam {
                name: name.to_string(),
                known,
            });
        };
        if p.value().shape() != value.shape() {
            return Err(LayerError::ParamShape {
                name: name.to_string(),
                expected: p.value().shape().to_vec(),
                got: value.shape().to_vec(),
            });
        }
        p.assign(value);
        Ok(())
    }

    /// `(total, trainable)` scalar counts over all parameters and state.
    pub fn param_count(&self) -> (usize, usize) {
        self.params()
            .iter()
            .fold((0, 0), |(all, trainable), (_, p)| {
                (
                    all + p.len(),
                    trainable + if p.is_trainable() { p.len() } else { 0 },
                )
            })
    }
}

/// `<layer>.<param>`, whether `param` is the layer-local name (`weight`) or already the full one.
pub(crate) fn full_param_name(layer: &str, param: &str) -> String {
    match param
        .strip_prefix(layer)
        .and_then(|rest| rest.strip_prefix('.'))
    {
        Some(_) => param.to_string(),
        None => format!("{layer}.{param}"),
    }
}
