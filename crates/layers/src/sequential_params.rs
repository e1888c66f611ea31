//! What a model file is checked against before anything is built: every parameter the model
//! will have ([`Sequential::param_shapes`]) and whether it fits its memory limit
//! ([`Sequential::check_size`]).

use neurite_tensor::Float;

use crate::{Result, Sequential};

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
}
