//! Tutorial "a single neuron trained by hand" of docs/keras.md: one Dense unit learns
//! `y = 2x - 1` from six points with a hand-written training loop (Keras' `GradientTape`
//! loop): forward in training mode, the loss's gradient, backward, one optimizer step.
//!
//! `cargo run --release --example neuron`

use neurite::prelude::*;

/// The learnt weight and bias, and the prediction for x = 10.
pub fn run(steps: usize) -> Result<(f64, f64, f64), Box<dyn std::error::Error>> {
    let x = array![[-1.0], [0.0], [1.0], [2.0], [3.0], [4.0]];
    let y = array![[-3.0], [-1.0], [1.0], [3.0], [5.0], [7.0]];

    let mut neuron = Sequential::<f64>::new()
        .with_input_shape([1])
        .add(Dense::new(1));
    neuron.build_declared()?;
    let loss = MeanSquaredError;
    let mut optimizer = Sgd::default().learning_rate(0.05);
    optimizer.validate()?;
    let mut d_output = ArrayD::zeros(vec![0]);
    for _ in 0..steps {
        neuron.zero_grad();
        let output = neuron.forward(x.view().into_dyn(), Mode::Train)?;
        loss.gradient(output, y.view().into_dyn(), &mut d_output)?;
        neuron.backward(d_output.view())?;
        optimizer.step(&mut neuron.param_refs_mut())?;
    }

    let weight = neuron.param("dense.weight")?.value()[[0, 0]];
    let bias = neuron.param("dense.bias")?.value()[[0]];
    let at_ten = neuron.forward(array![[10.0]].view().into_dyn(), Mode::Infer)?[[0, 0]];
    Ok((weight, bias, at_ten))
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (weight, bias, at_ten) = run(500)?;
    println!("y = {weight:.4} x + {bias:.4}; at x = 10: {at_ten:.4}");
    Ok(())
}
