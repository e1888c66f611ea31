//! `Summary`: the Keras-style table printed by `Sequential::summary()`.

use std::fmt;

use neurite_tensor::Float;

use crate::Layer;

/// One row of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// Layer name.
    pub name: String,
    /// Keras class name.
    pub class_name: String,
    /// Per-sample output shape.
    pub output_shape: Vec<usize>,
    /// Scalars in the layer's parameters and state.
    pub params: usize,
}

/// A model's layers, output shapes and parameter counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// One row per layer.
    pub rows: Vec<SummaryRow>,
    /// All parameters and state.
    pub total_params: usize,
    /// Trainable parameters only.
    pub trainable_params: usize,
}

impl Summary {
    pub(crate) fn new<F: Float>(layers: &[Box<dyn Layer<F>>], shapes: &[Vec<usize>]) -> Self {
        let mut total_params = 0;
        let mut trainable_params = 0;
        let rows = layers
            .iter()
            .zip(shapes)
            .map(|(layer, shape)| {
                let params: usize = layer.params().iter().map(|p| p.len()).sum();
                total_params += params;
                trainable_params += layer
                    .params()
                    .iter()
                    .filter(|p| p.is_trainable())
                    .map(|p| p.len())
                    .sum::<usize>();
                SummaryRow {
                    name: layer.name().to_string(),
                    class_name: layer.class_name().to_string(),
                    output_shape: shape.clone(),
                    params,
                }
            })
            .collect();
        Summary {
            rows,
            total_params,
            trainable_params,
        }
    }
}

/// `93322` -> `93,322`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = |c: char| c.to_string().repeat(72);
        writeln!(f, "Model: \"sequential\"")?;
        writeln!(f, "{}", rule('_'))?;
        writeln!(
            f,
            " {:<34}{:<26}{:>10}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        writeln!(f, "{}", rule('='))?;
        for row in &self.rows {
            let dims: Vec<String> = row.output_shape.iter().map(usize::to_string).collect();
            let shape = format!("(None, {})", dims.join(", "));
            let layer = format!("{} ({})", row.name, row.class_name);
            writeln!(f, " {layer:<34}{shape:<26}{:>10}", thousands(row.params))?;
        }
        writeln!(f, "{}", rule('='))?;
        writeln!(f, "Total params: {}", thousands(self.total_params))?;
        writeln!(f, "Trainable params: {}", thousands(self.trainable_params))?;
        writeln!(
            f,
            "Non-trainable params: {}",
            thousands(self.total_params - self.trainable_params)
        )?;
        write!(f, "{}", rule('_'))
    }
}
