//! Running weighted mean, used for the loss over an epoch.

/// A running mean of values, each weighted by how many samples it stands for.
///
/// ```
/// use neurite_metrics::streaming::Mean;
/// let mut loss = Mean::new("loss");
/// loss.add(0.5, 32); // mean loss of a batch of 32
/// loss.add(0.2, 8);  // last batch, 8 samples
/// assert!((loss.result() - (0.5 * 32.0 + 0.2 * 8.0) / 40.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mean {
    name: String,
    weighted_sum: f64,
    count: u64,
}

impl Mean {
    /// An empty mean called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            weighted_sum: 0.0,
            count: 0,
        }
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds `value`, the mean over `count` samples. A `count` of 0 adds nothing. NaN or infinite
    /// values are kept, so a diverging loss shows up in the result.
    pub fn add(&mut self, value: f64, count: u64) {
        if count > 0 {
            self.weighted_sum += value * count as f64;
            self.count += count;
        }
    }

    /// The number of samples added since the last reset.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The weighted mean (NaN if nothing was added).
    pub fn result(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.weighted_sum / self.count as f64
        }
    }

    /// Forgets all values.
    pub fn reset(&mut self) {
        self.weighted_sum = 0.0;
        self.count = 0;
    }
}
