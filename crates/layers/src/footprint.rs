//! Memory a model will hold, worked out from its configuration alone, so that sizes nobody can
//! allocate are refused with the layer named instead of aborting the process.
//!
//! Counts are in scalars and use saturating `u128` arithmetic: a product of `usize` dimensions
//! that overflows saturates, which is over any limit, so overflow can only make the check refuse.
//! Each count is a lower bound of what the layer really allocates, so a refusal is never
//! spurious.

use crate::{Layer, LayerError, Result};
use neurite_tensor::Float;

/// The default of [`crate::Sequential::with_max_bytes`]: 4 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 30;

/// What a layer holds for a given per-sample input shape, in scalars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Parameters and state tensors (each parameter also gets a gradient of its size).
    pub params: u128,
    /// Scalars per sample of a batch: the output and the work buffers a forward or backward
    /// pass allocates (Conv2D's unfolded input, say).
    pub per_sample: u128,
}

/// The product of `dims`, saturating.
pub fn product(dims: &[usize]) -> u128 {
    dims.iter()
        .fold(1u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// Totals of a model, in bytes, for checking batches after `build`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ModelBytes {
    /// Parameters with their gradients.
    pub fixed: u128,
    /// Buffers per sample of a batch.
    pub per_sample: u128,
    /// The index of the layer with the largest per-sample buffers (the one to blame for a batch
    /// that does not fit).
    pub widest: usize,
}

/// Sums the layers' footprints for `input_shape` (each layer's input is the previous output)
/// and refuses, naming the layer at which the running total for one sample crosses
/// `max_bytes`.
pub(crate) fn check_model<F: Float>(
    layers: &[Box<dyn Layer<F>>],
    input_shape: &[usize],
    shapes: &[Vec<usize>],
    max_bytes: u64,
) -> Result<ModelBytes> {
    let scalar = std::mem::size_of::<F>() as u128;
    let mut total = ModelBytes::default();
    let mut widest = 0u128;
    let inputs = std::iter::once(input_shape).chain(shapes.iter().map(Vec::as_slice));
    for (index, ((layer, input), output)) in layers.iter().zip(inputs).zip(shapes).enumerate() {
        let fp = layer.footprint(input, output);
        // A parameter is its value plus its gradient.
        let fixed = fp.params.saturating_mul(2).saturating_mul(scalar);
        let per_sample = fp.per_sample.saturating_mul(scalar);
        total.fixed = total.fixed.saturating_add(fixed);
        total.per_sample = total.per_sample.saturating_add(per_sample);
        if per_sample > widest {
            widest = per_sample;
            total.widest = index;
        }
        let needed = total.fixed.saturating_add(total.per_sample);
        if needed > u128::from(max_bytes) {
            return Err(LayerError::TooLarge {
                layer: layer.describe(),
                what: format!(
                    "{} parameters and {} per sample",
                    fmt_scalars(fp.params),
                    fmt_scalars(fp.per_sample)
                ),
                needed: fmt_bytes(needed),
                limit: fmt_bytes(u128::from(max_bytes)),
                hint: String::from(
                    "make the layer smaller (fewer units or filters, a smaller input), or raise \
                     the limit with Sequential::with_max_bytes",
                ),
            });
        }
    }
    Ok(total)
}

/// Refuses a batch of `n` samples whose buffers would push the model over `max_bytes`.
pub(crate) fn check_batch<F: Float>(
    layers: &[Box<dyn Layer<F>>],
    bytes: &ModelBytes,
    n: usize,
    max_bytes: u64,
) -> Result<()> {
    let needed = bytes
        .fixed
        .saturating_add(bytes.per_sample.saturating_mul(n as u128));
    if needed <= u128::from(max_bytes) {
        return Ok(());
    }
    let layer = layers
        .get(bytes.widest)
        .map_or_else(|| String::from("Sequential"), |l| l.describe());
    Err(LayerError::TooLarge {
        layer,
        what: format!("a batch of {n} samples"),
        needed: fmt_bytes(needed),
        limit: fmt_bytes(u128::from(max_bytes)),
        hint: String::from(
            "use smaller batches (the layer named has the largest buffers), or raise the limit \
             with Sequential::with_max_bytes",
        ),
    })
}

/// `40,000,200,000`, or `more than 10^38` when saturated.
fn fmt_scalars(n: u128) -> String {
    if n == u128::MAX {
        return String::from("more than 10^38");
    }
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `4.0 GiB`, `298.0 GiB`, `512 bytes`.
pub(crate) fn fmt_bytes(n: u128) -> String {
    if n == u128::MAX {
        return String::from("more than 10^38 bytes");
    }
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_scalars(40_000_200_000), "40,000,200,000");
        assert_eq!(fmt_scalars(999), "999");
        assert_eq!(fmt_bytes(4 << 30), "4.0 GiB");
        assert_eq!(fmt_bytes(1000), "1000 bytes");
        assert_eq!(fmt_bytes(u128::MAX), "more than 10^38 bytes");
        assert_eq!(product(&[usize::MAX, usize::MAX, 4]), u128::MAX);
        assert_eq!(product(&[]), 1);
    }
}
